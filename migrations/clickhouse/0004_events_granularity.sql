-- The events table again, with index granules of 1,024 rows instead of 8,192:
-- a rep's page and the recomputation of a rep's rollups read one rep's events,
-- a few thousand rows, and ClickHouse reads whole granules, so the coarser
-- granules read (and decompress) several times the rows asked for.
-- ClickHouse cannot change a table's granularity, so the rows are copied, with
-- no insert lost on the way: the materialized view copies every insert that
-- arrives during the copy (a row copied twice is the same key and version,
-- which the engine merges and every reader already treats as one). After the
-- rename, an insert still routed through the view fails, and the outbox sends
-- it again, until the view is dropped. Run again after an interruption, the
-- step repeats the copy into a table it then drops: the rename has happened
-- once and only once (the migrator takes "already exists" from it as done).
CREATE TABLE IF NOT EXISTS events_1024 AS events
ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, rep_id, event_key)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_to_1024 TO events_1024 AS SELECT * FROM events;

INSERT INTO events_1024 SELECT * FROM events;

RENAME TABLE events TO events_8192, events_1024 TO events;

DROP TABLE IF EXISTS events_to_1024;

DROP TABLE IF EXISTS events_8192;

DROP TABLE IF EXISTS events_1024;
