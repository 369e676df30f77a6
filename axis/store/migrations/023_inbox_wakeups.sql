-- A system's software may wait for its inbox (GET /api/v1/inbox?wait=N) instead of asking again and
-- again: the request is answered as soon as something lands in it. Whatever lands there (a delivery
-- queued by intake, the relay, a requeue or the federation; a receipt stored for a sender) is a row
-- written here, so triggers say so, whichever path wrote it: NOTIFY axis_inbox with the system's id,
-- once per system and statement (PostgreSQL folds the same payload within a transaction), sent at
-- commit. Every axis process LISTENs and wakes its waiting requests; a notification is only a hint
-- (they read the inbox again, and do so every few seconds anyway).
CREATE FUNCTION inbox_arrivals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'receipts' THEN
        PERFORM pg_notify('axis_inbox', for_system)
           FROM (SELECT DISTINCT for_system FROM arrived WHERE acknowledged_at IS NULL) AS waiting;
    ELSE
        PERFORM pg_notify('axis_inbox', system_id)
           FROM (SELECT DISTINCT system_id FROM arrived WHERE state = 'queued') AS waiting;
    END IF;
    RETURN NULL;
END
$$;

-- A delivery back in the queue (requeued, redelivered). A row trigger, so that it fires only for
-- those (a statement trigger with transition tables cannot name the column, and would run on
-- every fetch and acknowledgement).
CREATE FUNCTION inbox_requeued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('axis_inbox', NEW.system_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER deliveries_arrive AFTER INSERT ON deliveries
    REFERENCING NEW TABLE AS arrived FOR EACH STATEMENT EXECUTE FUNCTION inbox_arrivals();
CREATE TRIGGER receipts_arrive AFTER INSERT ON receipts
    REFERENCING NEW TABLE AS arrived FOR EACH STATEMENT EXECUTE FUNCTION inbox_arrivals();
CREATE TRIGGER deliveries_requeued AFTER UPDATE OF state ON deliveries
    FOR EACH ROW WHEN (NEW.state = 'queued' AND OLD.state <> 'queued') EXECUTE FUNCTION inbox_requeued();
