-- When a text lesson counts as completed: when the rep opens its page, or when
-- they press its Done button. (video_complete_percent, from 0004, is the video
-- lessons' setting.)
ALTER TABLE course_versions ADD COLUMN text_completion text NOT NULL DEFAULT 'open'
    CHECK (text_completion IN ('open', 'done_button'));
