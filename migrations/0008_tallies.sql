-- Counts kept by triggers, and indexes, so that /stats and broadcast audiences read a few
-- rows instead of every resident, subscription, report and RSVP (bench/bench_scale.py:
-- 0.6 s for /stats over all time at 200,000 residents and 50,000 reports).
--
-- The tallies are exact: every insert, update and delete of the counted rows adjusts them
-- in the same transaction, foreign-key cascades included (deleting a resident deletes
-- their subscriptions, an event its RSVPs). Rows are written with INSERT, INSERT OR
-- IGNORE, UPDATE, DELETE and upserts; INSERT OR REPLACE on a counted table would remove a
-- row without its delete trigger (SQLite runs those only with recursive_triggers on).

-- ------------------------------------------------------------------ residents, followers

-- Active residents per language, and how many of them follow at least one area.
CREATE TABLE resident_tallies (
    language  TEXT    PRIMARY KEY,
    active    INTEGER NOT NULL DEFAULT 0,
    following INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Active residents following each area ('*': citywide events), per language.
CREATE TABLE follower_tallies (
    area      TEXT    NOT NULL,
    language  TEXT    NOT NULL,
    followers INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (area, language)
) WITHOUT ROWID;

INSERT INTO resident_tallies (language, active, following)
SELECT r.language, count(*),
       sum(EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = r.user_id))
FROM residents r WHERE r.active = 1 GROUP BY r.language;

INSERT INTO follower_tallies (area, language, followers)
SELECT s.area, r.language, count(*)
FROM subscriptions s JOIN residents r ON r.user_id = s.user_id
WHERE r.active = 1 GROUP BY s.area, r.language;

-- A resident counts while active, in their language, with the areas they follow.
CREATE TRIGGER residents_tally_insert AFTER INSERT ON residents WHEN new.active = 1
BEGIN
    INSERT INTO resident_tallies (language, active, following)
    VALUES (new.language, 1, EXISTS (SELECT 1 FROM subscriptions WHERE user_id = new.user_id))
    ON CONFLICT (language) DO UPDATE SET
        active = active + 1, following = following + excluded.following;
    INSERT INTO follower_tallies (area, language, followers)
    SELECT area, new.language, 1 FROM subscriptions WHERE user_id = new.user_id
    ON CONFLICT (area, language) DO UPDATE SET followers = followers + 1;
END;

-- Blocked the bot (active = 0), came back, or changed language: out with the old, in with
-- the new.
CREATE TRIGGER residents_tally_update AFTER UPDATE OF user_id, language, active ON residents
WHEN old.user_id IS NOT new.user_id OR old.language IS NOT new.language
    OR old.active IS NOT new.active
BEGIN
    UPDATE resident_tallies SET
        active = active - 1,
        following = following - EXISTS (SELECT 1 FROM subscriptions WHERE user_id = old.user_id)
    WHERE old.active = 1 AND language = old.language;
    UPDATE follower_tallies SET followers = followers - 1
    WHERE old.active = 1 AND language = old.language
        AND area IN (SELECT area FROM subscriptions WHERE user_id = old.user_id);
    INSERT INTO resident_tallies (language, active, following)
    SELECT new.language, 1, EXISTS (SELECT 1 FROM subscriptions WHERE user_id = new.user_id)
    WHERE new.active = 1
    ON CONFLICT (language) DO UPDATE SET
        active = active + 1, following = following + excluded.following;
    INSERT INTO follower_tallies (area, language, followers)
    SELECT area, new.language, 1 FROM subscriptions WHERE user_id = new.user_id AND new.active = 1
    ON CONFLICT (area, language) DO UPDATE SET followers = followers + 1;
END;

-- BEFORE: the cascade that deletes the resident's subscriptions runs after the resident row
-- is gone, so their triggers (below) no longer find an active resident to count down.
CREATE TRIGGER residents_tally_delete BEFORE DELETE ON residents WHEN old.active = 1
BEGIN
    UPDATE resident_tallies SET
        active = active - 1,
        following = following - EXISTS (SELECT 1 FROM subscriptions WHERE user_id = old.user_id)
    WHERE language = old.language;
    UPDATE follower_tallies SET followers = followers - 1
    WHERE language = old.language
        AND area IN (SELECT area FROM subscriptions WHERE user_id = old.user_id);
END;

CREATE TRIGGER subscriptions_tally_insert AFTER INSERT ON subscriptions
BEGIN
    INSERT INTO follower_tallies (area, language, followers)
    SELECT new.area, language, 1 FROM residents WHERE user_id = new.user_id AND active = 1
    ON CONFLICT (area, language) DO UPDATE SET followers = followers + 1;
    UPDATE resident_tallies SET following = following + 1
    WHERE language = (SELECT language FROM residents WHERE user_id = new.user_id AND active = 1)
        AND NOT EXISTS (
            SELECT 1 FROM subscriptions WHERE user_id = new.user_id AND area != new.area
        );
END;

CREATE TRIGGER subscriptions_tally_delete AFTER DELETE ON subscriptions
BEGIN
    UPDATE follower_tallies SET followers = followers - 1
    WHERE area = old.area
        AND language = (SELECT language FROM residents WHERE user_id = old.user_id AND active = 1);
    UPDATE resident_tallies SET following = following - 1
    WHERE language = (SELECT language FROM residents WHERE user_id = old.user_id AND active = 1)
        AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = old.user_id);
END;

CREATE TRIGGER subscriptions_tally_update AFTER UPDATE OF user_id, area ON subscriptions
WHEN old.user_id IS NOT new.user_id OR old.area IS NOT new.area
BEGIN
    UPDATE follower_tallies SET followers = followers - 1
    WHERE area = old.area
        AND language = (SELECT language FROM residents WHERE user_id = old.user_id AND active = 1);
    INSERT INTO follower_tallies (area, language, followers)
    SELECT new.area, language, 1 FROM residents WHERE user_id = new.user_id AND active = 1
    ON CONFLICT (area, language) DO UPDATE SET followers = followers + 1;
    -- Moving a subscription to another resident changes who follows anything at all.
    UPDATE resident_tallies SET following = following - 1
    WHERE old.user_id IS NOT new.user_id
        AND language = (SELECT language FROM residents WHERE user_id = old.user_id AND active = 1)
        AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = old.user_id);
    UPDATE resident_tallies SET following = following + 1
    WHERE old.user_id IS NOT new.user_id
        AND language = (SELECT language FROM residents WHERE user_id = new.user_id AND active = 1)
        AND NOT EXISTS (
            SELECT 1 FROM subscriptions WHERE user_id = new.user_id AND area != new.area
        );
END;

-- Switches looked up from the few residents who changed them, not from every resident.
CREATE INDEX alert_prefs_no_broadcasts ON alert_prefs (user_id) WHERE broadcasts != 1;
CREATE INDEX alert_prefs_transparency ON alert_prefs (user_id) WHERE transparency = 1;

-- ------------------------------------------------------------------ reports

-- Reports per category, neighborhood ('' for none) and status: /stats over all time.
CREATE TABLE report_tallies (
    category     TEXT    NOT NULL,
    neighborhood TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    reports      INTEGER NOT NULL DEFAULT 0,
    acknowledged INTEGER NOT NULL DEFAULT 0,  -- of those, with acknowledged_at
    status_dated INTEGER NOT NULL DEFAULT 0,  -- of those, with status_at
    PRIMARY KEY (category, neighborhood, status)
) WITHOUT ROWID;

INSERT INTO report_tallies (category, neighborhood, status, reports, acknowledged, status_dated)
SELECT category, coalesce(neighborhood, ''), status, count(*), count(acknowledged_at),
       count(status_at)
FROM reports GROUP BY category, coalesce(neighborhood, ''), status;

CREATE TRIGGER reports_tally_insert AFTER INSERT ON reports
BEGIN
    INSERT INTO report_tallies (category, neighborhood, status, reports, acknowledged,
                                status_dated)
    VALUES (new.category, coalesce(new.neighborhood, ''), new.status, 1,
            new.acknowledged_at IS NOT NULL, new.status_at IS NOT NULL)
    ON CONFLICT (category, neighborhood, status) DO UPDATE SET
        reports = reports + 1,
        acknowledged = acknowledged + excluded.acknowledged,
        status_dated = status_dated + excluded.status_dated;
END;

CREATE TRIGGER reports_tally_update
AFTER UPDATE OF category, neighborhood, status, acknowledged_at, status_at ON reports
WHEN old.category IS NOT new.category OR old.neighborhood IS NOT new.neighborhood
    OR old.status IS NOT new.status
    OR (old.acknowledged_at IS NULL) != (new.acknowledged_at IS NULL)
    OR (old.status_at IS NULL) != (new.status_at IS NULL)
BEGIN
    UPDATE report_tallies SET
        reports = reports - 1,
        acknowledged = acknowledged - (old.acknowledged_at IS NOT NULL),
        status_dated = status_dated - (old.status_at IS NOT NULL)
    WHERE category = old.category AND neighborhood = coalesce(old.neighborhood, '')
        AND status = old.status;
    INSERT INTO report_tallies (category, neighborhood, status, reports, acknowledged,
                                status_dated)
    VALUES (new.category, coalesce(new.neighborhood, ''), new.status, 1,
            new.acknowledged_at IS NOT NULL, new.status_at IS NOT NULL)
    ON CONFLICT (category, neighborhood, status) DO UPDATE SET
        reports = reports + 1,
        acknowledged = acknowledged + excluded.acknowledged,
        status_dated = status_dated + excluded.status_dated;
END;

CREATE TRIGGER reports_tally_delete AFTER DELETE ON reports
BEGIN
    UPDATE report_tallies SET
        reports = reports - 1,
        acknowledged = acknowledged - (old.acknowledged_at IS NOT NULL),
        status_dated = status_dated - (old.status_at IS NOT NULL)
    WHERE category = old.category AND neighborhood = coalesce(old.neighborhood, '')
        AND status = old.status;
END;

-- A period's reports counted per kind (category, neighborhood, status) by range, in the
-- order of the kinds: no sorting.
CREATE INDEX reports_by_kind
    ON reports (category, neighborhood, status, created_at, acknowledged_at, status_at);
-- A short period's times to acknowledge and to resolve, read from the index of filing times
-- alone (it held only created_at).
DROP INDEX reports_created;
CREATE INDEX reports_created
    ON reports (created_at, category, neighborhood, status, acknowledged_at, status_at);
-- Hotspots: each (category, neighborhood) counted over time windows by range.
CREATE INDEX reports_hotspots ON reports (category, coalesce(neighborhood, ''), created_at);
-- Median and 90th percentile of the times to acknowledge and to resolve: the value at a
-- rank is read from these indexes, in the order of the times.
CREATE INDEX reports_acknowledge_time
    ON reports (max(acknowledged_at - created_at, 0.0), created_at)
    WHERE acknowledged_at IS NOT NULL;
CREATE INDEX reports_resolve_time
    ON reports (max(status_at - created_at, 0.0), created_at)
    WHERE status = 'resolved' AND status_at IS NOT NULL;

-- ------------------------------------------------------------------ RSVPs, surveys

-- RSVP answers per event, as /stats counts them.
CREATE TABLE rsvp_tallies (
    event_id INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    going    INTEGER NOT NULL DEFAULT 0,  -- going, with a place
    maybe    INTEGER NOT NULL DEFAULT 0,
    declined INTEGER NOT NULL DEFAULT 0,  -- answered "no"
    waitlist INTEGER NOT NULL DEFAULT 0   -- going, waiting for a place
);

INSERT INTO rsvp_tallies (event_id, going, maybe, declined, waitlist)
SELECT event_id, sum(answer = 'going' AND waitlisted = 0), sum(answer = 'maybe'),
       sum(answer = 'no'), sum(answer = 'going' AND waitlisted = 1)
FROM rsvps GROUP BY event_id;

CREATE TRIGGER rsvps_tally_insert AFTER INSERT ON rsvps
BEGIN
    INSERT INTO rsvp_tallies (event_id, going, maybe, declined, waitlist)
    VALUES (new.event_id, new.answer = 'going' AND new.waitlisted = 0, new.answer = 'maybe',
            new.answer = 'no', new.answer = 'going' AND new.waitlisted = 1)
    ON CONFLICT (event_id) DO UPDATE SET
        going = going + excluded.going, maybe = maybe + excluded.maybe,
        declined = declined + excluded.declined, waitlist = waitlist + excluded.waitlist;
END;

CREATE TRIGGER rsvps_tally_update AFTER UPDATE OF event_id, answer, waitlisted ON rsvps
WHEN old.event_id IS NOT new.event_id OR old.answer IS NOT new.answer
    OR old.waitlisted IS NOT new.waitlisted
BEGIN
    UPDATE rsvp_tallies SET
        going = going - (old.answer = 'going' AND old.waitlisted = 0),
        maybe = maybe - (old.answer = 'maybe'),
        declined = declined - (old.answer = 'no'),
        waitlist = waitlist - (old.answer = 'going' AND old.waitlisted = 1)
    WHERE event_id = old.event_id;
    INSERT INTO rsvp_tallies (event_id, going, maybe, declined, waitlist)
    VALUES (new.event_id, new.answer = 'going' AND new.waitlisted = 0, new.answer = 'maybe',
            new.answer = 'no', new.answer = 'going' AND new.waitlisted = 1)
    ON CONFLICT (event_id) DO UPDATE SET
        going = going + excluded.going, maybe = maybe + excluded.maybe,
        declined = declined + excluded.declined, waitlist = waitlist + excluded.waitlist;
END;

CREATE TRIGGER rsvps_tally_delete AFTER DELETE ON rsvps
BEGIN
    UPDATE rsvp_tallies SET
        going = going - (old.answer = 'going' AND old.waitlisted = 0),
        maybe = maybe - (old.answer = 'maybe'),
        declined = declined - (old.answer = 'no'),
        waitlist = waitlist - (old.answer = 'going' AND old.waitlisted = 1)
    WHERE event_id = old.event_id;
END;

-- A period's events in order, without sorting them.
CREATE INDEX events_starts ON events (starts_at);

-- Survey counts of a period read from the index alone.
CREATE INDEX survey_invitations_time ON survey_invitations (survey_id, invited_at);
CREATE INDEX survey_responses_started ON survey_responses (survey_id, started_on, status);

-- ------------------------------------------------------------------ outbox

-- The sender's "when is the next row due": min(not_before) of the pending rows read from
-- the first entry of an index, not from every pending row (8 ms with a citywide broadcast
-- of 190,000 deliveries queued).
CREATE INDEX outbox_pending_next ON outbox (not_before) WHERE status = 'pending';
