-- The reports learn the facts of every rep and enrollment (tracking.RepFacts,
-- tracking.EnrollmentFacts): from here on each change writes them to the
-- outbox; this writes them once for what exists, and the shipper takes them to
-- ClickHouse, where they fill the dashboard's rollups. The JSON is what those
-- Go types encode.
INSERT INTO event_outbox (org_id, rep_id, event_key, kind, occurred_at, value, detail, version)
SELECT r.org_id, r.id, 'rep/' || r.id, 'rep_changed', now(), coalesce(r.team_id, 0),
    json_build_object('team', coalesce(t.name, ''), 'status', r.status, 'name', r.name, 'phone', r.phone,
        'email', r.email, 'time_zone', r.time_zone, 'opted_out', r.opted_out_at IS NOT NULL,
        'phone_invalid', r.phone_invalid_at IS NOT NULL)::text,
    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000
FROM reps r LEFT JOIN teams t ON t.id = r.team_id
ORDER BY r.id;

INSERT INTO event_outbox (org_id, rep_id, event_key, kind, occurred_at, course_id, enrollment_id, detail, version)
SELECT e.org_id, e.rep_id, 'enrollment/' || e.id, 'enrollment_changed', now(), v.course_id, e.id,
    json_build_object('course_version_id', e.course_version_id, 'course_title', v.title, 'status', e.status,
        'enrolled_at', e.enrolled_at, 'due_on', to_char(e.due_on, 'YYYY-MM-DD'),
        'lessons', (SELECT count(*) FROM assignments a WHERE a.enrollment_id = e.id AND a.status <> 'skipped'),
        'segments', (SELECT coalesce(sum(ceil(l.video_seconds / 15.0)), 0)::int
            FROM assignments a JOIN course_lessons l ON l.id = a.lesson_id
            WHERE a.enrollment_id = e.id AND a.status <> 'skipped' AND l.kind = 'video'))::text,
    (extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000
FROM enrollments e JOIN course_versions v ON v.id = e.course_version_id
ORDER BY e.id;
