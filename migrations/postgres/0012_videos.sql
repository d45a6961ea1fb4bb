-- Videos a trainer uploads, stored in Postgres as large objects so that every
-- web process serves them, with range requests, like the demo video. A file is
-- named by its content's hash: uploading it again stores nothing new.
CREATE TABLE videos (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES organisations (id),
    name       text NOT NULL UNIQUE CHECK (name ~ '^[0-9a-f]{32}\.mp4$'),
    content    oid NOT NULL,
    bytes      bigint NOT NULL CHECK (bytes > 0),
    seconds    double precision NOT NULL CHECK (seconds > 0),
    created_at timestamptz NOT NULL
);
CREATE INDEX videos_org ON videos (org_id);
