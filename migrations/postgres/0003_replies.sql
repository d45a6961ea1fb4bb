-- Replies, grading and adaptive paths.

-- An inbound message from a number no organisation knows is still kept.
ALTER TABLE messages ALTER COLUMN org_id DROP NOT NULL;
ALTER TABLE messages DROP CONSTRAINT messages_purpose_check;
ALTER TABLE messages ADD CONSTRAINT messages_purpose_check CHECK (purpose IN
    ('lesson', 'question', 'feedback', 'hint', 'review', 'nudge', 'reminder', 'help', 'confirmation', 'reply'));
CREATE INDEX messages_open_questions ON messages (rep_id, id DESC)
    WHERE direction = 'outbound' AND purpose IN ('question', 'review');

-- When Twilio Advanced Opt-Out answers STOP, START and HELP itself, we must not
-- send a second confirmation.
ALTER TABLE organisations ADD COLUMN twilio_advanced_opt_out boolean NOT NULL DEFAULT false;

-- A retake is the same quiz again: assignments repeat a lesson with a higher
-- attempt, and paths grow in the middle, so positions are checked at commit.
ALTER TABLE assignments DROP CONSTRAINT assignments_enrollment_id_lesson_id_key;
ALTER TABLE assignments DROP CONSTRAINT assignments_enrollment_id_position_key;
ALTER TABLE assignments
    ADD COLUMN attempt   int NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    ADD COLUMN questions int[],            -- a retake of only some questions; NULL: all
    ADD COLUMN reason    text NOT NULL DEFAULT '', -- why the path has this step, e.g. remedial because...
    ADD CONSTRAINT assignments_lesson_attempt UNIQUE (enrollment_id, lesson_id, attempt),
    ADD CONSTRAINT assignments_position UNIQUE (enrollment_id, position) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE enrollments ADD COLUMN flagged_at timestamptz, ADD COLUMN flag_reason text NOT NULL DEFAULT '';

-- One row per graded answer; the first valid answer to a question counts.
CREATE TABLE attempts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES organisations (id),
    rep_id        bigint NOT NULL REFERENCES reps (id),
    assignment_id bigint NOT NULL REFERENCES assignments (id),
    question      int NOT NULL,
    asked_id      bigint NOT NULL REFERENCES messages (id) UNIQUE, -- the question message answered
    reply_id      bigint NOT NULL REFERENCES messages (id),
    choice        int NOT NULL,
    correct       boolean NOT NULL,
    answered_at   timestamptz NOT NULL
);
CREATE INDEX attempts_assignment ON attempts (assignment_id);

-- Remedial lessons are off the normal path: only a rule assigns them.
ALTER TABLE course_lessons ADD COLUMN remedial boolean NOT NULL DEFAULT false;
-- The adaptation rules of a version (lessons.Rules as JSON).
ALTER TABLE course_versions ADD COLUMN rules jsonb NOT NULL DEFAULT '{}';

-- Set on the day after the due date when the course is not done: the manager's list.
ALTER TABLE enrollments ADD COLUMN overdue_at timestamptz;
