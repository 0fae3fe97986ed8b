-- Reports, their history, the relay map between the staff chat and residents, and the
-- per-year reference counter. Times are Unix seconds (UTC) stored as REAL.

CREATE TABLE reports (
    id                INTEGER PRIMARY KEY,
    reference         TEXT    NOT NULL UNIQUE,         -- R-2026-000123
    resident_id       INTEGER NOT NULL,                -- Telegram user id (never shown to staff)
    resident_chat_id  INTEGER NOT NULL,                -- the private chat updates go to
    category          TEXT    NOT NULL,
    neighborhood      TEXT,                            -- a neighborhood id, or NULL
    address           TEXT,                            -- a typed address or landmark
    latitude          REAL,
    longitude         REAL,
    outside_area      INTEGER NOT NULL DEFAULT 0,      -- location outside the bounding box, kept
    description       TEXT    NOT NULL,
    photos            TEXT    NOT NULL DEFAULT '[]',   -- JSON list of Telegram file ids
    voice             TEXT,                            -- a Telegram file id
    text_language     TEXT,                            -- detected language of the description
    language          TEXT    NOT NULL,                -- the resident's language when filing
    anonymous         INTEGER NOT NULL,
    reporter_name     TEXT,                            -- only when the resident shared it
    reporter_username TEXT,                            -- only when the resident shared it
    pseudonym         TEXT    NOT NULL,                -- keyed hash, e.g. 7F3A
    emergency_words   TEXT    NOT NULL DEFAULT '[]',   -- JSON list of the words that matched
    status            TEXT    NOT NULL DEFAULT 'new'
                      CHECK (status IN ('new', 'acknowledged', 'in_progress', 'resolved',
                                        'not_actionable')),
    staff_chat_id     INTEGER,                         -- where the card goes (NULL: nowhere)
    staff_thread_id   INTEGER,                         -- its forum topic (own or configured)
    uses_topic        INTEGER NOT NULL DEFAULT 0,      -- the report has a topic of its own
    card_message_id   INTEGER,
    status_by_name    TEXT,                            -- staff-facing only, for the card
    status_at         REAL,                            -- when the status last changed
    created_at        REAL    NOT NULL,
    updated_at        REAL    NOT NULL,
    acknowledged_at   REAL,
    escalated_at      REAL
);
CREATE INDEX reports_resident ON reports (resident_id, created_at);
CREATE INDEX reports_open ON reports (status, created_at)
    WHERE status IN ('new', 'acknowledged', 'in_progress');

-- History: created, status changes, relayed messages, escalation. `actor_id` is a staff
-- member's user id (internal; never shown to residents).
CREATE TABLE report_events (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL
                CHECK (kind IN ('created', 'status', 'staff_message', 'resident_message',
                                'escalated')),
    status      TEXT,
    actor_id    INTEGER,
    actor_name  TEXT,
    body        TEXT,
    created_at  REAL    NOT NULL
);
CREATE INDEX report_events_report ON report_events (report_id, id);

-- Which message belongs to which report, in the staff chat and in residents' chats:
-- topic (message_id = the topic's thread id), card, media (photos, map pin), to_staff
-- (a resident's message relayed to the staff), to_resident (a staff message or a status
-- update relayed to the resident, which the resident may reply to).
CREATE TABLE report_messages (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    report_id   INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL
                CHECK (role IN ('topic', 'card', 'media', 'to_staff', 'to_resident')),
    PRIMARY KEY (chat_id, message_id, role)
);
CREATE INDEX report_messages_report ON report_messages (report_id);

CREATE TABLE report_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);
