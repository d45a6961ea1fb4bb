-- Video progress keeps its watched segments as a bit string, one bit a segment
-- (bit 0, the leftmost, is the first segment): the shipper ORs a batch of
-- segments in with `|` and counts them with bit_count, where a boolean array
-- had to be rebuilt element by element.
ALTER TABLE video_progress ALTER COLUMN watched TYPE bit varying
    USING translate(array_to_string(watched, ''), 'tf', '10')::bit varying;

-- Events written by group commit (the lesson pages' video pings, tens of
-- thousands a second): one row per commit, which costs Postgres a fraction of
-- a row per event. The shipper moves them with the outbox's events. lines
-- holds the events, one a line, as tab-separated fields in event_outbox's
-- column order (occurred_at in microseconds since 1970, deleted as 0 or 1),
-- with a backslash, tab, newline or carriage return in a text field written
-- \\, \t, \n or \r, as COPY's text format does; events says how many.
CREATE TABLE event_batches (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    events     int NOT NULL CHECK (events > 0),
    lines      text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now()
);

-- lz4 compresses a batch for less than it costs to write it whole; a server
-- built without lz4 keeps the default.
DO $$
BEGIN
    ALTER TABLE event_batches ALTER COLUMN lines SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;
