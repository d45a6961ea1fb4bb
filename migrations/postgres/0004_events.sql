-- The events outbox: every domain event and every video ping is written here in
-- the transaction of the change that causes it, then shipped to ClickHouse in
-- batches and deleted. At least once: a batch shipped twice collapses there by key.
CREATE TABLE event_outbox (
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

-- Which 15-second segments of each video lesson a rep has played, and where
-- they left off: the lesson page resumes there, and the lesson completes once
-- enough segments are watched.
CREATE TABLE video_progress (
    assignment_id bigint PRIMARY KEY REFERENCES assignments (id) ON DELETE CASCADE,
    watched       boolean[] NOT NULL,
    position      double precision NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL
);

-- The share of a video's segments that completes its lesson (percent).
ALTER TABLE course_versions ADD COLUMN video_complete_percent int NOT NULL DEFAULT 90
    CHECK (video_complete_percent BETWEEN 1 AND 100);
