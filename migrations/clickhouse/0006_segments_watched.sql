-- Which video segments each rep watched of each assignment, beside how many:
-- the video report draws each lesson's drop-off curve from it without reading
-- the raw events (an organisation's scan of them takes longer than a page
-- may). tracking.RollUp keeps it from here on, with the rest of the row.
ALTER TABLE assignment_progress ADD COLUMN segments Array(UInt16);

-- The rows of the assignments watched before this step, again with their
-- segments: each row's newest version, one nanosecond newer, so that any
-- recomputation started later still wins. The segments are the newest
-- version of every key that was ever a segment event, tombstones left out,
-- as tracking.RollUp counts them. Run again, it writes the same rows once
-- more, a nanosecond newer.
INSERT INTO assignment_progress (org_id, rep_id, assignment_id, course_id, enrollment_id, lesson_id,
    sent_at, opened_at, completed_at, answers, correct, segments_watched, last_activity_at, segments, version, deleted)
SELECT org_id, rep_id, assignment_id, course_id, enrollment_id, lesson_id,
    sent_at, opened_at, completed_at, answers, correct, segments_watched, last_activity_at, segments, newest + 1, toUInt8(0)
FROM (
    SELECT org_id, rep_id, assignment_id,
        argMax(course_id, version) AS course_id, argMax(enrollment_id, version) AS enrollment_id,
        argMax(lesson_id, version) AS lesson_id, argMax(sent_at, version) AS sent_at,
        argMax(opened_at, version) AS opened_at, argMax(completed_at, version) AS completed_at,
        argMax(answers, version) AS answers, argMax(correct, version) AS correct,
        argMax(segments_watched, version) AS segments_watched, argMax(last_activity_at, version) AS last_activity_at,
        max(version) AS newest, argMax(deleted, version) AS deleted
    FROM assignment_progress
    WHERE (org_id, rep_id, assignment_id) IN (
        SELECT org_id, rep_id, assignment_id FROM events WHERE kind = 'segment_watched')
    GROUP BY org_id, rep_id, assignment_id
)
ANY INNER JOIN (
    SELECT org_id, rep_id, assignment AS assignment_id,
        arraySort(groupUniqArray(toUInt16(value))) AS segments
    FROM (
        SELECT org_id, rep_id, event_key,
            argMax(kind, version) AS kind, argMax(assignment_id, version) AS assignment,
            argMax(value, version) AS value, argMax(deleted, version) AS deleted
        FROM events
        WHERE (org_id, rep_id, event_key) IN (
            SELECT org_id, rep_id, event_key FROM events WHERE kind = 'segment_watched')
        GROUP BY org_id, rep_id, event_key
    )
    WHERE deleted = 0 AND kind = 'segment_watched' AND assignment != 0 AND value >= 0 AND value < 65536
    GROUP BY org_id, rep_id, assignment
) USING (org_id, rep_id, assignment_id)
WHERE deleted = 0;
