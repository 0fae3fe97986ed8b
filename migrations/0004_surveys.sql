-- Feedback surveys: published definitions, responses and answers, post-event invitations.
-- Times are Unix seconds (UTC) stored as REAL.
--
-- Anonymity: a response is found again by `respondent`, an HMAC-SHA256 of (survey id,
-- Telegram user id) under HASH_SECRET, never by a user id. For anonymous surveys
-- `user_id` stays NULL, the row's id is random (WITHOUT ROWID: no insertion order to
-- line up with other tables), and its dates are days, not moments. Answers carry no
-- user, chat or time at all.

CREATE TABLE surveys (
    id           TEXT    PRIMARY KEY,              -- from the survey file, used in sv_<id> links
    definition   TEXT    NOT NULL,                 -- JSON of the validated definition
    source       TEXT    NOT NULL,                 -- the TOML text it was published from
    anonymous    INTEGER NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opens_at     REAL,                             -- optional window from the file
    closes_at    REAL,
    published_at REAL    NOT NULL,
    updated_at   REAL    NOT NULL
);

CREATE TABLE survey_responses (
    id           TEXT    PRIMARY KEY,              -- random hex
    survey_id    TEXT    NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
    respondent   TEXT    NOT NULL,                 -- keyed hash: one response per resident
    user_id      INTEGER,                          -- named surveys only; NULL when anonymous
    language     TEXT    NOT NULL,                 -- the language the survey was shown in
    event_id     INTEGER,                          -- the event it followed up, if any
    status       TEXT    NOT NULL DEFAULT 'in_progress'
                 CHECK (status IN ('in_progress', 'complete')),
    current      TEXT,                             -- question being asked (to resume)
    draft        TEXT,                             -- JSON: choices toggled before "Done"
    started_on   TEXT    NOT NULL,                 -- YYYY-MM-DD, city time
    completed_on TEXT,
    started_at   REAL,                             -- named surveys only
    completed_at REAL,                             -- named surveys only
    UNIQUE (survey_id, respondent)
) WITHOUT ROWID;
CREATE INDEX survey_responses_survey ON survey_responses (survey_id, status);

CREATE TABLE survey_answers (
    response_id   TEXT    NOT NULL REFERENCES survey_responses (id) ON DELETE CASCADE,
    question_id   TEXT    NOT NULL,
    skipped       INTEGER NOT NULL DEFAULT 0,
    value         TEXT,                            -- JSON: 1-5, "yes"/"no", option id(s), text
    text_language TEXT,                            -- detected language of a free-text answer
    PRIMARY KEY (response_id, question_id)
) WITHOUT ROWID;

-- Who was sent a survey after an event (one invitation per resident per survey).
-- It says who was asked, never whether or what they answered.
CREATE TABLE survey_invitations (
    survey_id  TEXT    NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    event_id   INTEGER,                            -- events.id (no foreign key: optional feature)
    invited_at REAL    NOT NULL,
    PRIMARY KEY (survey_id, user_id)
);

-- Events whose follow-up survey has been dispatched, so a tick does the work once.
CREATE TABLE survey_dispatches (
    survey_id     TEXT    NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
    event_id      INTEGER NOT NULL,
    invited       INTEGER NOT NULL,
    dispatched_at REAL    NOT NULL,
    PRIMARY KEY (survey_id, event_id)
);
