-- Insight and transparency: the monthly digest residents opt in to, its "you said, we
-- did" notes and the months already sent. Times are Unix seconds (UTC) stored as REAL.

-- The opt-in lives with the other alert switches. Unlike those, it is off by default
-- (no row, or a row written before this column existed, means "not opted in").
ALTER TABLE alert_prefs ADD COLUMN transparency INTEGER NOT NULL DEFAULT 0;

-- An admin's note for one month's digest, per language (residents get theirs, else the
-- note in the city's default language, else the first one written).
CREATE TABLE transparency_notes (
    month      TEXT    NOT NULL,                  -- YYYY-MM, the month the digest covers
    language   TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    author_id  INTEGER NOT NULL,                  -- the admin's user id (internal)
    updated_at REAL    NOT NULL,
    PRIMARY KEY (month, language)
) WITHOUT ROWID;

-- Monthly digests already queued, recorded in the transaction that queued them.
CREATE TABLE transparency_runs (
    month      TEXT    PRIMARY KEY,               -- YYYY-MM, the month the digest covers
    recipients INTEGER NOT NULL,
    at         REAL    NOT NULL
);

-- /stats periods, hotspots, the monthly digest and `export reports --since` read reports
-- by filing time.
CREATE INDEX reports_created ON reports (created_at);
