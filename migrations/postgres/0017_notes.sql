-- Notes on reps by the organisation's users, with the #tags and @mentions
-- parsed from their text (lessons.ParseNote). A note is edited or deleted in
-- place, and each version, the deletion too, is kept in note_revisions: who
-- wrote what and when stays on record. A rep's tags are those of their live
-- notes; they reach ClickHouse with the rep's other facts.
CREATE TABLE notes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL,
    rep_id     bigint NOT NULL,
    author_id  bigint NOT NULL,
    body       text NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 2000),
    tags       text[] NOT NULL DEFAULT '{}',
    version    int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz,
    FOREIGN KEY (org_id, rep_id) REFERENCES reps (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, author_id) REFERENCES users (org_id, id)
);
CREATE INDEX notes_rep ON notes (rep_id, id DESC);
CREATE INDEX notes_org_live ON notes (org_id) WHERE deleted_at IS NULL;

CREATE TABLE note_revisions (
    note_id   bigint NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    version   int NOT NULL,
    action    text NOT NULL CHECK (action IN ('written', 'edited', 'deleted')),
    body      text NOT NULL,
    tags      text[] NOT NULL,
    user_id   bigint NOT NULL REFERENCES users (id),
    at        timestamptz NOT NULL,
    PRIMARY KEY (note_id, version)
);

-- Who a live note mentions: their "mentions" list. seen_at is set when they
-- open the list.
CREATE TABLE note_mentions (
    note_id      bigint NOT NULL REFERENCES notes (id) ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mentioned_at timestamptz NOT NULL,
    seen_at      timestamptz,
    PRIMARY KEY (note_id, user_id)
);
CREATE INDEX note_mentions_user ON note_mentions (user_id, mentioned_at DESC);

-- The organisation's time zone: where its reports' weeks and months start.
ALTER TABLE organisations ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC' CHECK (time_zone <> '');
