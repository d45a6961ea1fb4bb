-- The log of what the writers of ClickHouse's rollups changed, so that a
-- process that keeps an organisation's rollups in memory (the dashboard)
-- learns in one indexed read of Postgres whether they are current, and which
-- reps to read again. Each write of the rollups adds a row in the
-- transaction that ships what caused it. generation counts an organisation's
-- changes: analytics_generations' row is locked by the writer until it
-- commits, so generations commit in order and a reader that sees one has
-- seen every earlier one.
CREATE TABLE analytics_generations (
    org_id     bigint PRIMARY KEY,
    generation bigint NOT NULL
);

CREATE TABLE analytics_changes (
    org_id     bigint NOT NULL,
    generation bigint NOT NULL,
    rep_ids    bigint[],           -- NULL: every rep of the organisation
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, generation)
);
