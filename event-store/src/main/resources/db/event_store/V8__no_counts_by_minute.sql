-- Counts over time moved to the application (its buckets and time zone are its own choice).
DROP TABLE ${schema}.event_counts_by_minute;
