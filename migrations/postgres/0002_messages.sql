-- SMS: every message in or out is a row, written before it is sent.

ALTER TABLE reps
    ADD COLUMN phone_invalid_at     timestamptz,
    ADD COLUMN phone_invalid_reason text NOT NULL DEFAULT '';

-- Messages per second a sender may carry; NULL: the deployment's default
-- (1 for a From number, 0 = unlimited for a messaging service unless set).
ALTER TABLE organisations ADD COLUMN sms_mps numeric CHECK (sms_mps >= 0);

-- The rep's link to a lesson page: an unguessable token bound to one assignment.
CREATE TABLE lesson_links (
    token         text PRIMARY KEY CHECK (length(token) >= 22),
    assignment_id bigint NOT NULL UNIQUE REFERENCES assignments (id) ON DELETE CASCADE,
    rep_id        bigint NOT NULL REFERENCES reps (id),
    created_at    timestamptz NOT NULL
);

CREATE TABLE messages (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         bigint NOT NULL REFERENCES organisations (id),
    rep_id         bigint,  -- NULL for an inbound message from an unknown number
    enrollment_id  bigint REFERENCES enrollments (id),
    assignment_id  bigint REFERENCES assignments (id),
    question       int,     -- the question's index, for quiz questions
    direction      text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    purpose        text NOT NULL CHECK (purpose IN ('lesson', 'question', 'feedback', 'nudge', 'reminder', 'help', 'confirmation', 'reply')),
    from_number    text NOT NULL DEFAULT '',
    to_number      text NOT NULL DEFAULT '',
    body           text NOT NULL,
    encoding       text NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
    segments       int NOT NULL CHECK (segments >= 0),
    status         text NOT NULL CHECK (status IN ('scheduled', 'queued', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled', 'received')),
    provider_sid   text UNIQUE,
    error_code     int,
    error_message  text NOT NULL DEFAULT '',
    scheduled_at   timestamptz,
    created_at     timestamptz NOT NULL,
    sent_at        timestamptz,  -- accepted by the provider
    delivered_at   timestamptz,
    updated_at     timestamptz NOT NULL,
    FOREIGN KEY (org_id, rep_id) REFERENCES reps (org_id, id)
);
CREATE INDEX messages_rep ON messages (rep_id, id);
CREATE INDEX messages_assignment ON messages (assignment_id) WHERE assignment_id IS NOT NULL;
-- One message per step: a lesson, or one question of a quiz, is scheduled once
-- (again only after a cancellation, when a rep who opted out comes back).
CREATE UNIQUE INDEX messages_one_per_step ON messages (assignment_id, coalesce(question, -1))
    WHERE direction = 'outbound' AND purpose IN ('lesson', 'question') AND status <> 'cancelled';

-- Pacing of senders with a messages-per-second limit, shared by every worker process.
CREATE TABLE sender_pacing (
    sender    text PRIMARY KEY,
    next_slot timestamptz NOT NULL
);

-- Status callbacks that overtook the commit of their message's sid.
CREATE TABLE early_statuses (
    provider_sid  text PRIMARY KEY,
    status        text NOT NULL,
    error_code    int NOT NULL DEFAULT 0,
    error_message text NOT NULL DEFAULT '',
    rank          int NOT NULL,
    received_at   timestamptz NOT NULL
);
