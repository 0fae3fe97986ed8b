-- Neighborhood meeting alerts: events, RSVPs, subscriptions, reminders, digests, broadcasts.
-- Times are Unix seconds (UTC) stored as REAL.

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    event_type  TEXT    NOT NULL
                CHECK (event_type IN ('meeting', 'workshop', 'youth', 'community')),
    title       TEXT    NOT NULL,                 -- JSON {language: text}, default language set
    description TEXT    NOT NULL DEFAULT '{}',    -- JSON {language: text}
    citywide    INTEGER NOT NULL DEFAULT 0,       -- 1: for the whole city, no neighborhoods
    starts_at   REAL    NOT NULL,
    ends_at     REAL    NOT NULL,
    place       TEXT    NOT NULL DEFAULT '',
    latitude    REAL,
    longitude   REAL,
    capacity    INTEGER CHECK (capacity IS NULL OR capacity > 0),
    status      TEXT    NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'cancelled')),
    revision    INTEGER NOT NULL DEFAULT 1,       -- +1 when time or place change (ICS SEQUENCE)
    created_by  INTEGER NOT NULL,
    created_at  REAL    NOT NULL,
    updated_at  REAL    NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_upcoming ON events (status, starts_at);

CREATE TABLE event_neighborhoods (
    event_id     INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    neighborhood TEXT    NOT NULL,
    PRIMARY KEY (event_id, neighborhood)
) WITHOUT ROWID;

-- One answer per resident per event. A "going" past capacity waits in line (waitlisted).
CREATE TABLE rsvps (
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    answer     TEXT    NOT NULL CHECK (answer IN ('going', 'maybe', 'no')),
    waitlisted INTEGER NOT NULL DEFAULT 0,
    queued_at  REAL    NOT NULL,                  -- when they asked for a place: waitlist order
    updated_at REAL    NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX rsvps_waitlist ON rsvps (event_id, queued_at) WHERE waitlisted = 1;
CREATE INDEX rsvps_user ON rsvps (user_id);

-- Residents who opened an event through its deep link (a flyer's QR code).
CREATE TABLE event_opens (
    event_id  INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    opened_at REAL    NOT NULL,
    PRIMARY KEY (event_id, user_id)
) WITHOUT ROWID;

-- A reminder offset of an event (at one revision) once it was planned or skipped.
CREATE TABLE reminder_runs (
    event_id       INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    revision       INTEGER NOT NULL,
    offset_minutes INTEGER NOT NULL,
    outcome        TEXT    NOT NULL CHECK (outcome IN ('planned', 'skipped')),
    recipients     INTEGER NOT NULL DEFAULT 0,
    at             REAL    NOT NULL,
    PRIMARY KEY (event_id, revision, offset_minutes)
) WITHOUT ROWID;

-- Areas a resident follows: a neighborhood id, or '*' for citywide events.
CREATE TABLE subscriptions (
    user_id    INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    area       TEXT    NOT NULL,
    created_at REAL    NOT NULL,
    PRIMARY KEY (user_id, area)
) WITHOUT ROWID;
CREATE INDEX subscriptions_area ON subscriptions (area, user_id);

-- Event types a resident does not want to hear about (all types are on by default).
CREATE TABLE muted_event_types (
    user_id    INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    event_type TEXT    NOT NULL,
    PRIMARY KEY (user_id, event_type)
) WITHOUT ROWID;

-- Per-resident switches; no row means every switch is on.
CREATE TABLE alert_prefs (
    user_id         INTEGER PRIMARY KEY REFERENCES residents (user_id) ON DELETE CASCADE,
    reminders       INTEGER NOT NULL DEFAULT 1,
    digest          INTEGER NOT NULL DEFAULT 1,
    broadcasts      INTEGER NOT NULL DEFAULT 1,
    show_all_events INTEGER NOT NULL DEFAULT 0,  -- /events lists every event, not only followed
    updated_at      REAL    NOT NULL
);

-- Weekly digests already planned, by slot (the local date of the digest).
CREATE TABLE digest_runs (
    slot       TEXT    PRIMARY KEY,
    recipients INTEGER NOT NULL,
    at         REAL    NOT NULL
);

CREATE TABLE broadcasts (
    id                  INTEGER PRIMARY KEY,
    created_by          INTEGER NOT NULL,
    admin_chat_id       INTEGER NOT NULL,
    admin_language      TEXT    NOT NULL,
    texts               TEXT    NOT NULL,         -- JSON {language: HTML text}
    photo_file_id       TEXT,
    audience            TEXT    NOT NULL,         -- JSON {"neighborhoods": [], "languages": []}
    status              TEXT    NOT NULL
                        CHECK (status IN ('scheduled', 'sending', 'done', 'cancelled')),
    send_at             REAL    NOT NULL,
    planned             INTEGER NOT NULL DEFAULT 0,  -- deliveries queued
    progress_message_id INTEGER,                  -- the admin's live progress message
    progress_seq        INTEGER NOT NULL DEFAULT 0,
    progress_shown      TEXT,                     -- the counts last shown (JSON)
    reported            INTEGER NOT NULL DEFAULT 0,
    created_at          REAL    NOT NULL,
    started_at          REAL,
    finished_at         REAL
);
CREATE INDEX broadcasts_open ON broadcasts (status, send_at) WHERE reported = 0;

-- The outbox's claim query cancels expired rows and fails rows whose parent failed on
-- every batch; without these they scan every pending row (100,000 after a broadcast).
CREATE INDEX outbox_expiring ON outbox (expires_at)
    WHERE status = 'pending' AND expires_at IS NOT NULL;
CREATE INDEX outbox_pending_dependents ON outbox (depends_on)
    WHERE status = 'pending' AND depends_on IS NOT NULL;
CREATE INDEX outbox_batch_failed ON outbox (batch, error) WHERE status = 'failed';
