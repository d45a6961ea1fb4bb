-- Enrollment from the browser: an enrollment can be paused (the rep gets
-- nothing until it is resumed) and can start on a later date. A message
-- cancelled because the rep could not be sent it then (paused, opted out, an
-- unreachable number) is held: sent again, once, when the enrollment continues,
-- and then it names the message that sent it.

ALTER TABLE enrollments DROP CONSTRAINT enrollments_status_check;
ALTER TABLE enrollments
    ADD CONSTRAINT enrollments_status_check CHECK (status IN ('active', 'paused', 'completed', 'cancelled')),
    ADD COLUMN paused_at timestamptz,
    ADD COLUMN starts_at timestamptz,
    ADD CONSTRAINT enrollments_paused_at_check CHECK ((status = 'paused') = (paused_at IS NOT NULL));

ALTER TABLE messages
    ADD COLUMN held boolean NOT NULL DEFAULT false,
    ADD COLUMN reissued_as bigint REFERENCES messages (id);
CREATE INDEX messages_held ON messages (enrollment_id) WHERE held;

-- A step refused for good (the rep had opted out at the carrier) is sent again
-- once the rep can be reached: only one live message per step.
DROP INDEX messages_one_per_step;
CREATE UNIQUE INDEX messages_one_per_step ON messages (assignment_id, coalesce(question, -1))
    WHERE direction = 'outbound' AND purpose IN ('lesson', 'question') AND status NOT IN ('cancelled', 'failed');
