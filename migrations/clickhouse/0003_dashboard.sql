-- What the manager dashboard reads: the facts of reps and enrollments shipped
-- from Postgres, and two rollups kept current by the event writer, so that a
-- page reads a few thousand rows about the reps it shows, never the raw events.
-- ALTER ... ADD COLUMN has no IF NOT EXISTS on 18.16: the migrator skips one
-- whose column exists (one column per statement), so the step can run again.

-- The reps dimension learns what the pages show and filter on.
ALTER TABLE reps ADD COLUMN team_name String;
ALTER TABLE reps ADD COLUMN name String;
ALTER TABLE reps ADD COLUMN phone String;
ALTER TABLE reps ADD COLUMN email String;
ALTER TABLE reps ADD COLUMN time_zone String;
ALTER TABLE reps ADD COLUMN opted_out UInt8;
ALTER TABLE reps ADD COLUMN phone_invalid UInt8;

-- Enrollments: one row per version of each, written when it starts, its path
-- changes or it ends. lessons_total counts the steps of its path (skipped ones
-- left out), segments_total the 15-second segments of its video steps.
CREATE TABLE IF NOT EXISTS enrollments (
    org_id            UInt64,
    rep_id            UInt64,
    enrollment_id     UInt64,
    course_id         UInt64,
    course_version_id UInt64,
    course_title      String,
    status            String,
    enrolled_at       DateTime('UTC'),
    due_on            Date,
    lessons_total     UInt32,
    segments_total    UInt32,
    version           UInt64,
    deleted           UInt8
) ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, rep_id, enrollment_id);

-- The last time the rep did something on the assignment (opened it, watched a
-- segment, answered, completed it).
ALTER TABLE assignment_progress ADD COLUMN last_activity_at DateTime('UTC');

-- Each rep's progress in each enrollment, with the rep's and the enrollment's
-- facts beside it: the rep table and the overview read only this. Recomputed
-- for every rep a write touches, from assignment_progress and the facts
-- (tracking.RollUpReps). Sorted by team first: a manager's page reads the rows
-- of their teams. A rep who changes team leaves a tombstone (deleted = 1) under
-- the old one.
CREATE TABLE IF NOT EXISTS enrollment_progress (
    org_id              UInt64,
    team_id             UInt64,
    rep_id              UInt64,
    enrollment_id       UInt64,
    course_id           UInt64,
    course_title        String,
    team_name           String,
    name                String,
    rep_status          String,
    opted_out           UInt8,
    phone_invalid       UInt8,
    status              String,          -- the enrollment's: active, completed, cancelled
    enrolled_at         DateTime('UTC'),
    due_at              DateTime('UTC'), -- the start of the day after the due date, in the rep's zone
    lessons_total       UInt32,
    lessons_sent        UInt32,
    lessons_opened      UInt32,
    lessons_done        UInt32,
    answers             UInt32,
    correct             UInt32,
    segments_total      UInt32,
    segments_watched    UInt32,
    completed_at        DateTime('UTC'), -- 1970: not done
    last_activity_at    DateTime('UTC'),
    oldest_open_sent_at DateTime('UTC'), -- the earliest step sent and not done
    version             UInt64,
    deleted             UInt8
) ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, team_id, rep_id, enrollment_id)
SETTINGS index_granularity = 1024;

-- One row per rep: what search finds and ranks (recent activity first).
CREATE TABLE IF NOT EXISTS rep_summary (
    org_id           UInt64,
    team_id          UInt64,
    rep_id           UInt64,
    team_name        String,
    name             String,
    phone            String,
    email            String,
    rep_status       String,
    opted_out        UInt8,
    phone_invalid    UInt8,
    enrollments      UInt32,
    done             UInt32,
    last_activity_at DateTime('UTC'),
    version          UInt64,
    deleted          UInt8
) ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, team_id, rep_id)
SETTINGS index_granularity = 1024;

-- assignment_progress again, now with last_activity_at, for the events stored
-- before this step; tracking.RollUp keeps it from here on. The rollups above
-- fill as the facts re-sent by Postgres migration 0008 are shipped.
INSERT INTO assignment_progress (org_id, rep_id, assignment_id, course_id, enrollment_id, lesson_id,
    sent_at, opened_at, completed_at, answers, correct, segments_watched, last_activity_at, version, deleted)
SELECT org_id, rep_id, assignment_id, max(course_id), max(enrollment_id), max(lesson_id),
    minIf(occurred_at, kind = 'message_sent'), minIf(occurred_at, kind = 'lesson_opened'),
    minIf(occurred_at, kind = 'lesson_completed'),
    toUInt32(countIf(kind = 'graded')), toUInt32(countIf(kind = 'graded' AND value > 0)),
    toUInt32(countIf(kind = 'segment_watched')),
    maxIf(occurred_at, kind IN ('lesson_opened', 'segment_watched', 'lesson_completed', 'graded')),
    toUInt64(toUInt32(now())) * 1000000000, toUInt8(0)
FROM (
    SELECT org_id, rep_id, event_key,
        argMax(kind, version) AS kind, argMax(occurred_at, version) AS occurred_at,
        argMax(course_id, version) AS course_id, argMax(enrollment_id, version) AS enrollment_id,
        argMax(assignment_id, version) AS assignment_id, argMax(lesson_id, version) AS lesson_id,
        argMax(value, version) AS value, argMax(deleted, version) AS deleted
    FROM events
    GROUP BY org_id, rep_id, event_key
)
WHERE deleted = 0 AND assignment_id != 0
GROUP BY org_id, rep_id, assignment_id;
