-- Privacy: reports that lost every link to their resident, and the retention purge.
-- Times are Unix seconds (UTC) stored as REAL.
--
-- A report stays for the program's statistics when its resident deletes their data
-- (/deletemydata) or when it has been closed for longer than `retention_days`: its
-- resident_id and resident_chat_id become 0 (no Telegram user has id 0), the shared name,
-- username, photos, voice note and the texts of the messages relayed about it are
-- removed, and its pseudonym is replaced by a random one. These columns say when and why.
ALTER TABLE reports ADD COLUMN redacted_at REAL;
ALTER TABLE reports ADD COLUMN redacted_by TEXT
    CHECK (redacted_by IS NULL OR redacted_by IN ('resident', 'retention'));

-- The nightly purge looks for closed reports, by when they were closed, not yet redacted.
CREATE INDEX reports_retention ON reports (status_at)
    WHERE redacted_at IS NULL AND status IN ('resolved', 'not_actionable');
