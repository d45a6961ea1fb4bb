-- What `morsel rebuild-analytics` needs to rebuild ClickHouse from Postgres
-- that Postgres did not keep.

-- When the rep last opened the assignment's lesson (its lesson_opened event's
-- time): set by the lesson page, not by pings.
ALTER TABLE assignments ADD COLUMN opened_at timestamptz;

-- Every row a correction wrote to ClickHouse (tracking.Void, Correct,
-- Backfill, DeleteRep), as written, version included: they go to ClickHouse
-- directly, not through the outbox, and exist nowhere else. A rebuild writes
-- them again after the events it derives, so a void or a correction
-- survives a lost ClickHouse. Written before ClickHouse is, in the request
-- that makes them: rare, an API call each.
CREATE TABLE event_corrections (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL,
    rep_id        bigint NOT NULL,
    event_key     text NOT NULL,
    kind          text NOT NULL,
    occurred_at   timestamptz NOT NULL,
    course_id     bigint NOT NULL DEFAULT 0,
    enrollment_id bigint NOT NULL DEFAULT 0,
    assignment_id bigint NOT NULL DEFAULT 0,
    lesson_id     bigint NOT NULL DEFAULT 0,
    value         double precision NOT NULL DEFAULT 0,
    detail        text NOT NULL DEFAULT '',
    version       bigint NOT NULL,
    deleted       boolean NOT NULL DEFAULT false
);
CREATE INDEX event_corrections_rep ON event_corrections (org_id, rep_id, id);
