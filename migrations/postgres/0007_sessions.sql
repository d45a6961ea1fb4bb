-- Browser sign-ins of users (admins, trainers, managers). The cookie holds a
-- random token; only its SHA-256 is stored, so a copy of this table signs no
-- one in. Signing out, changing the password or expiry ends a session.
CREATE TABLE user_sessions (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL CHECK (expires_at > created_at)
);

CREATE INDEX user_sessions_user ON user_sessions (user_id);
