-- Every graded quiz answer's event again, sorted by course: the question report
-- reads a course's answers (thousands of rows) where the events table, sorted by
-- rep, would make it read every event of the organisation. Each write to events
-- writes its grade/ rows here too (tracking.InsertEvents), corrections and
-- tombstones included, with the same version; a reader takes the newest version
-- of each (rep_id, event_key) and leaves tombstones out, as it does of events. A
-- correction that moves an answer to another course also writes a tombstone under
-- the old one (tracking.Correct).
CREATE TABLE IF NOT EXISTS question_attempts (
    org_id        UInt64,
    course_id     UInt64,
    rep_id        UInt64,
    event_key     String,
    kind          String,
    occurred_at   DateTime('UTC'),
    lesson_id     UInt64,
    value         Float64,
    detail        String,
    version       UInt64,
    deleted       UInt8
) ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, course_id, rep_id, event_key);

-- The answers stored before this step.
INSERT INTO question_attempts (org_id, course_id, rep_id, event_key, kind, occurred_at, lesson_id, value, detail, version, deleted)
SELECT org_id, course_id, rep_id, event_key, kind, occurred_at, lesson_id, value, detail, version, deleted
FROM events WHERE event_key LIKE 'grade/%';
