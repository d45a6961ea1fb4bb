-- Authoring in the browser: a course can be archived (kept with its history,
-- no longer listed for new enrollments), and each organisation sets what one
-- SMS segment costs it, in millionths of its currency, for the editor's cost.

ALTER TABLE courses ADD COLUMN archived_at timestamptz;

ALTER TABLE organisations
    ADD COLUMN sms_segment_price_micros bigint NOT NULL DEFAULT 7900
        CHECK (sms_segment_price_micros BETWEEN 0 AND 10000000),
    ADD COLUMN sms_currency text NOT NULL DEFAULT 'USD' CHECK (sms_currency ~ '^[A-Z]{3}$');
