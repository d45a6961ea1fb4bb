-- A rep's #tags (those of the live notes on them, lessons' notes) travel with
-- the rep's other facts: the reps dimension holds them, and each row of
-- enrollment_progress carries its rep's, so that the rep table filters by tag
-- and the breakdowns group by it from the same rows. A tag removed from the
-- rep's last note leaves with the next facts, as a team change does.
ALTER TABLE reps ADD COLUMN tags Array(String);
ALTER TABLE enrollment_progress ADD COLUMN tags Array(String);
