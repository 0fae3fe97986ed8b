-- Residents, processed updates, stored conversation state and the outbox.
-- Times are Unix seconds (UTC) stored as REAL.

CREATE TABLE residents (
    user_id         INTEGER PRIMARY KEY,          -- Telegram user id
    chat_id         INTEGER NOT NULL,             -- private chat with the bot
    language        TEXT    NOT NULL,
    language_source TEXT    NOT NULL DEFAULT 'telegram'
                    CHECK (language_source IN ('telegram', 'default', 'chosen', 'detected')),
    detect_offered  INTEGER NOT NULL DEFAULT 0,   -- the one-tap language switch was offered
    active          INTEGER NOT NULL DEFAULT 1,   -- 0 once the resident blocked the bot
    created_at      REAL    NOT NULL,
    last_seen_at    REAL    NOT NULL
);
CREATE INDEX residents_active_language ON residents (active, language);

CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,
    processed_at REAL NOT NULL
);

-- One open conversation per private chat (a report being written, an event draft ...).
CREATE TABLE dialogs (
    chat_id    INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    flow       TEXT    NOT NULL,
    step       TEXT    NOT NULL,
    data       TEXT    NOT NULL DEFAULT '{}',     -- JSON
    version    INTEGER NOT NULL DEFAULT 1,        -- bumps on every step; binds buttons to it
    updated_at REAL    NOT NULL
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL DEFAULT 'message',
    chat_id         INTEGER NOT NULL,
    method          TEXT    NOT NULL,             -- Bot API method, e.g. sendMessage
    params          TEXT    NOT NULL,             -- JSON parameters of the call
    depends_on      INTEGER REFERENCES outbox (id),
    fill_from       TEXT,                         -- JSON {param: field of depends_on's result}
    priority        INTEGER NOT NULL DEFAULT 5,   -- lower goes first: staff 1, replies 3, bulk 8
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unknown', 'cancelled')),
    resend_if_unknown INTEGER NOT NULL DEFAULT 0, -- safe to send again after an ambiguous attempt
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      REAL    NOT NULL,
    expires_at      REAL,                         -- not sent after this moment (e.g. event started)
    batch           TEXT,                         -- e.g. broadcast:12, for progress and cancel
    message_id      INTEGER,                      -- Telegram's id once sent
    result          TEXT,                         -- small JSON extract of Telegram's answer
    error           TEXT,
    created_at      REAL    NOT NULL,
    updated_at      REAL    NOT NULL
);
CREATE INDEX outbox_due ON outbox (priority, not_before) WHERE status = 'pending';
CREATE INDEX outbox_batch ON outbox (batch, status) WHERE batch IS NOT NULL;
CREATE INDEX outbox_depends ON outbox (depends_on) WHERE depends_on IS NOT NULL;

CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
