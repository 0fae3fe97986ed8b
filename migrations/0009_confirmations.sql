-- The resident's summary message a report was confirmed from. A Confirm pressed again on
-- that very message (the first "received" may have been lost in a restart) is answered
-- "received" again; on any other message it is a stale button. Cleared when the report
-- is detached from its resident.
ALTER TABLE reports ADD COLUMN confirm_message_id INTEGER;
CREATE INDEX reports_confirmed_from ON reports (resident_id, confirm_message_id)
    WHERE confirm_message_id IS NOT NULL;

-- A resident's survey invitations are read by resident on every survey list (the primary
-- key starts with the survey).
CREATE INDEX survey_invitations_user ON survey_invitations (user_id);
