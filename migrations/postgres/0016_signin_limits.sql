-- Sign-in attempts counted per client address, per (address, email) and per
-- email, in a window that starts with the first attempt. Every web process
-- counts in this one table, and an attempt is counted (a row lock taken) before
-- its password is checked, so parallel guesses each see the ones before them.
-- A row whose window has passed means nothing and is deleted by later
-- attempts; no row is ever evicted early.
CREATE TABLE signin_limits (
    key          text PRIMARY KEY,     -- 'address:…', 'pair:…', 'email:…'
    attempts     integer NOT NULL,     -- in the window, less the ones that signed in
    window_start timestamptz NOT NULL
);
CREATE INDEX signin_limits_window ON signin_limits (window_start);
