-- The sweep reads the unfinished scans a page at a time, oldest first, from where it stopped.
CREATE INDEX scan_in_flight_by_request_time ON ${schema}.scan_in_flight (requested_at, scan_id);
