-- When each API key was last used (to the minute), so that an admin can tell
-- a key in use from a forgotten one before revoking it.
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
