-- Every domain event, one row per fact. A correction is a new row with the same key
-- and a higher version; a deletion is such a row with deleted = 1. Read with FINAL
-- (or argMax by version) and deleted = 0. Not partitioned: a correction may change
-- occurred_at, and it must still replace the row it corrects.
CREATE TABLE IF NOT EXISTS events (
    org_id        UInt64,
    rep_id        UInt64,
    event_key     String,
    kind          String,
    occurred_at   DateTime('UTC'),
    course_id     UInt64,
    enrollment_id UInt64,
    assignment_id UInt64,
    lesson_id     UInt64,
    value         Float64,
    detail        String,
    version       UInt64,
    deleted       UInt8
) ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, rep_id, event_key);

-- The reps dimension, kept in step with Postgres, so that a rep removed or moved to
-- another team changes every report at once.
CREATE TABLE IF NOT EXISTS reps (
    org_id  UInt64,
    rep_id  UInt64,
    team_id UInt64,
    status  String,
    version UInt64,
    deleted UInt8
) ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, rep_id);
