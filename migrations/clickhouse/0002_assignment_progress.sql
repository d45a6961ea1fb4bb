-- Each rep's progress on each assignment (a lesson of an enrollment), rolled up
-- from the raw events: what the dashboard reads, since FINAL over the raw events
-- of a 7,000-rep organisation takes seconds on older servers. Every write to
-- events recomputes the rows of the reps it touched from their raw events (argMax
-- by version per key, tombstones left out), so the rollup is a function of the
-- events, corrections included. version is when the recomputation started: a
-- later one has seen every insert an earlier one saw. An assignment left with no
-- events gets a row with deleted = 1.
CREATE TABLE IF NOT EXISTS assignment_progress (
    org_id           UInt64,
    rep_id           UInt64,
    assignment_id    UInt64,
    course_id        UInt64,
    enrollment_id    UInt64,
    lesson_id        UInt64,
    sent_at          DateTime('UTC'), -- 1970-01-01 00:00:00: not yet
    opened_at        DateTime('UTC'),
    completed_at     DateTime('UTC'),
    answers          UInt32,          -- quiz answers graded
    correct          UInt32,          -- of which correct
    segments_watched UInt32,          -- distinct 15-second video segments
    version          UInt64,
    deleted          UInt8
) ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, rep_id, assignment_id);

-- The progress of the events stored before this step (tracking.RollUp keeps it
-- from here on); its version, in whole seconds, is below any later
-- recomputation's.
INSERT INTO assignment_progress (org_id, rep_id, assignment_id, course_id, enrollment_id, lesson_id,
    sent_at, opened_at, completed_at, answers, correct, segments_watched, version, deleted)
SELECT org_id, rep_id, assignment_id, max(course_id), max(enrollment_id), max(lesson_id),
    minIf(occurred_at, kind = 'message_sent'), minIf(occurred_at, kind = 'lesson_opened'),
    minIf(occurred_at, kind = 'lesson_completed'),
    toUInt32(countIf(kind = 'graded')), toUInt32(countIf(kind = 'graded' AND value > 0)),
    toUInt32(countIf(kind = 'segment_watched')),
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
