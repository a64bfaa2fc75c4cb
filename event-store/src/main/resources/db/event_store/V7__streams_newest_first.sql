-- Browsing streams newest first (StreamReader.listStreams) walks this index instead of sorting.
CREATE INDEX streams_newest_first ON ${schema}.streams (created_at DESC, stream_id DESC);
