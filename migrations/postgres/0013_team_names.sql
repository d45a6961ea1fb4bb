-- A team's name may be as long as a rep file's team column allows (200
-- characters): one limit, so that an import never fails on the database's.
ALTER TABLE teams DROP CONSTRAINT teams_name_check;
ALTER TABLE teams ADD CONSTRAINT teams_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 200);
