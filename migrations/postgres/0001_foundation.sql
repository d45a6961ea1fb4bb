-- Organisations, people, courses and enrollments: the model everything else hangs on.

CREATE TABLE organisations (
    id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                      text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name                      text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    -- The SMS sender: a From number or a messaging service; NULL for both means the
    -- TWILIO_FROM / TWILIO_MESSAGING_SERVICE_SID defaults.
    sms_from                  text CHECK (sms_from ~ '^\+[1-9][0-9]{6,14}$'),
    sms_messaging_service_sid text CHECK (sms_messaging_service_sid ~ '^MG[0-9a-fA-F]{32}$'),
    help_text                 text NOT NULL DEFAULT 'Morsel training messages. Reply STOP to opt out.'
                              CHECK (length(help_text) BETWEEN 1 AND 320),
    created_at                timestamptz NOT NULL DEFAULT now(),
    CHECK (sms_from IS NULL OR sms_messaging_service_sid IS NULL)
);

CREATE TABLE users (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id               bigint NOT NULL REFERENCES organisations (id),
    name                 text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    email                text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    role                 text NOT NULL CHECK (role IN ('admin', 'trainer', 'manager')),
    password_hash        text NOT NULL,
    must_change_password boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (email),
    UNIQUE (org_id, id)
);

CREATE TABLE teams (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES organisations (id),
    name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
);

-- A manager sees only the reps of the teams listed here for them.
CREATE TABLE team_managers (
    org_id  bigint NOT NULL,
    team_id bigint NOT NULL,
    user_id bigint NOT NULL,
    PRIMARY KEY (team_id, user_id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX team_managers_user ON team_managers (user_id);

CREATE TABLE reps (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       bigint NOT NULL REFERENCES organisations (id),
    team_id      bigint,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    phone        text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    email        text NOT NULL DEFAULT '' CHECK (email = lower(email)),
    time_zone    text NOT NULL CHECK (time_zone <> ''),
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')),
    opted_out_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, phone),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id)
);
CREATE INDEX reps_team ON reps (org_id, team_id);

CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       bigint NOT NULL REFERENCES organisations (id),
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    prefix       text NOT NULL,          -- the first characters, to tell keys apart
    hash         bytea NOT NULL UNIQUE,  -- sha256 of the whole key
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

CREATE TABLE courses (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES organisations (id),
    slug       text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    title      text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, slug),
    UNIQUE (org_id, id)
);

CREATE TABLE course_versions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            bigint NOT NULL,
    course_id         bigint NOT NULL,
    number            int NOT NULL CHECK (number >= 1),
    status            text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    published_at      timestamptz,
    title             text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    description       text NOT NULL DEFAULT '',
    pass_mark         int NOT NULL CHECK (pass_mark BETWEEN 0 AND 100),
    due_days          int NOT NULL CHECK (due_days BETWEEN 1 AND 365),
    -- Cadence: weekdays (0 = Sunday ... 6 = Saturday) or every N days, at minutes
    -- after the rep's local midnight; the send window likewise.
    cadence_weekdays  smallint[] NOT NULL DEFAULT '{}' CHECK (cadence_weekdays <@ '{0,1,2,3,4,5,6}'),
    cadence_every_days int NOT NULL DEFAULT 0 CHECK (cadence_every_days BETWEEN 0 AND 30),
    cadence_times     smallint[] NOT NULL CHECK (cardinality(cadence_times) BETWEEN 1 AND 6),
    window_start      smallint NOT NULL CHECK (window_start BETWEEN 0 AND 1439),
    window_end        smallint NOT NULL CHECK (window_end BETWEEN 1 AND 1440),
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (course_id, number),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, course_id) REFERENCES courses (org_id, id),
    CHECK ((status = 'published') = (published_at IS NOT NULL)),
    CHECK ((cardinality(cadence_weekdays) > 0) <> (cadence_every_days > 0)),
    CHECK (window_start < window_end)
);
-- At most one draft per course.
CREATE UNIQUE INDEX course_versions_one_draft ON course_versions (course_id) WHERE status = 'draft';

CREATE TABLE course_lessons (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_version_id bigint NOT NULL REFERENCES course_versions (id) ON DELETE CASCADE,
    position          int NOT NULL CHECK (position >= 0),
    key               text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9._-]{0,39}$'),
    kind              text NOT NULL CHECK (kind IN ('text', 'video', 'quiz')),
    title             text NOT NULL,
    body              text NOT NULL DEFAULT '',
    video_url         text NOT NULL DEFAULT '',
    video_seconds     int NOT NULL DEFAULT 0 CHECK (video_seconds BETWEEN 0 AND 3600),
    optional          boolean NOT NULL DEFAULT false,
    UNIQUE (course_version_id, position),
    UNIQUE (course_version_id, key),
    CHECK ((kind = 'video') = (video_url <> '' AND video_seconds > 0))
);

CREATE TABLE quiz_questions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lesson_id   bigint NOT NULL REFERENCES course_lessons (id) ON DELETE CASCADE,
    position    int NOT NULL CHECK (position >= 0),
    prompt      text NOT NULL CHECK (prompt <> ''),
    choices     text[] NOT NULL CHECK (cardinality(choices) BETWEEN 2 AND 6),
    correct     int NOT NULL,
    explanation text NOT NULL DEFAULT '',
    UNIQUE (lesson_id, position),
    CHECK (correct >= 0 AND correct < cardinality(choices))
);

-- A published version is immutable: its row (but for nothing), lessons and
-- questions refuse every change.
CREATE FUNCTION refuse_published_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    version_id bigint;
    version_status text;
BEGIN
    IF TG_TABLE_NAME = 'course_versions' THEN
        IF OLD.status = 'published' THEN
            RAISE EXCEPTION 'course version % is published and cannot change', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN COALESCE(NEW, OLD);
    ELSIF TG_TABLE_NAME = 'course_lessons' THEN
        version_id := COALESCE(NEW.course_version_id, OLD.course_version_id);
    ELSE
        SELECT l.course_version_id INTO version_id
        FROM course_lessons l WHERE l.id = COALESCE(NEW.lesson_id, OLD.lesson_id);
    END IF;
    SELECT status INTO version_status FROM course_versions WHERE id = version_id;
    IF version_status = 'published' THEN
        RAISE EXCEPTION 'course version % is published and cannot change', version_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
END $$;

CREATE TRIGGER course_versions_immutable BEFORE UPDATE OR DELETE ON course_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_published_change();
CREATE TRIGGER course_lessons_immutable BEFORE INSERT OR UPDATE OR DELETE ON course_lessons
    FOR EACH ROW EXECUTE FUNCTION refuse_published_change();
CREATE TRIGGER quiz_questions_immutable BEFORE INSERT OR UPDATE OR DELETE ON quiz_questions
    FOR EACH ROW EXECUTE FUNCTION refuse_published_change();

CREATE TABLE enrollments (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            bigint NOT NULL,
    rep_id            bigint NOT NULL,
    course_version_id bigint NOT NULL,
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'cancelled')),
    enrolled_at       timestamptz NOT NULL,
    due_on            date NOT NULL,
    completed_at      timestamptz,
    score             numeric(5, 2) CHECK (score BETWEEN 0 AND 100),
    UNIQUE (rep_id, course_version_id),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, rep_id) REFERENCES reps (org_id, id),
    FOREIGN KEY (org_id, course_version_id) REFERENCES course_versions (org_id, id),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);
CREATE INDEX enrollments_org_status ON enrollments (org_id, status);

-- One assignment per lesson per enrollment: the rep's path through the course.
CREATE TABLE assignments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enrollment_id bigint NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
    lesson_id     bigint NOT NULL REFERENCES course_lessons (id),
    position      int NOT NULL,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'scheduled', 'sent', 'completed', 'skipped')),
    scheduled_at  timestamptz,
    sent_at       timestamptz,
    completed_at  timestamptz,
    score         numeric(5, 2) CHECK (score BETWEEN 0 AND 100),
    UNIQUE (enrollment_id, lesson_id),
    UNIQUE (enrollment_id, position)
);
