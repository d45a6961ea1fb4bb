-- Alerts (scheduler/alerts): one row per open incident, so that of several
-- worker processes that see the same trouble only the one whose insert made
-- the row posts the alert, and only the one whose delete removed it posts the
-- resolution.
CREATE TABLE alert_incidents (
    key       text PRIMARY KEY,     -- 'queue-stalled:sms', 'breaker:+15005550006', ...
    opened_at timestamptz NOT NULL,
    summary   text NOT NULL
);

-- Each worker process's heartbeat: a row not seen for a while is a worker gone.
-- A process that stops cleanly deletes its row.
CREATE TABLE worker_heartbeats (
    name       text PRIMARY KEY,    -- host:pid
    started_at timestamptz NOT NULL,
    seen_at    timestamptz NOT NULL
);
