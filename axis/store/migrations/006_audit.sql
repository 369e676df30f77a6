-- Tamper-evident logs: every row of the event log and of the registry history carries the hash of
-- the row before it in its chain, so that editing or deleting a row by hand breaks the chain at
-- that row (`axis audit verify` finds the first broken link). And retention: archived packages.

CREATE TABLE audit_heads (
    chain       text PRIMARY KEY,
    last_seq    bigint NOT NULL,
    last_hash   bytea NOT NULL
);
-- The chains start from a fixed, published value.
INSERT INTO audit_heads VALUES ('events', 0, sha256('axis audit: events'::bytea)),
                               ('registry_history', 0, sha256('axis audit: registry_history'::bytea));

ALTER TABLE events ADD COLUMN chain_seq bigint, ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;
ALTER TABLE registry_history ADD COLUMN chain_seq bigint, ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;

-- What is hashed: every column that says something, as text in a fixed form (times as epoch
-- microseconds, JSON as jsonb's canonical text), so that the same row always hashes the same.
CREATE FUNCTION audit_event_text(e events) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('|', e.chain_seq, e.id, (extract(epoch FROM e.at) * 1000000)::bigint, e.document_id,
                     e.package_id, e.kind, e.system_id, e.agency_code, e.detail::text)
$$;
CREATE FUNCTION audit_history_text(h registry_history) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('|', h.chain_seq, h.id, (extract(epoch FROM h.at) * 1000000)::bigint, h.actor, h.action,
                     h.subject_kind, h.subject_id, h.before::text, h.after::text)
$$;

-- The head row is locked until the inserting transaction commits, so the chain order is the
-- commit order and `chain_seq` numbers it without gaps.
CREATE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head audit_heads%ROWTYPE;
BEGIN
    SELECT * INTO head FROM audit_heads WHERE chain = TG_TABLE_NAME FOR UPDATE;
    NEW.chain_seq := head.last_seq + 1;
    NEW.prev_hash := head.last_hash;
    IF TG_TABLE_NAME = 'events' THEN
        NEW.hash := sha256(NEW.prev_hash || convert_to(audit_event_text(NEW), 'UTF8'));
    ELSE
        NEW.hash := sha256(NEW.prev_hash || convert_to(audit_history_text(NEW), 'UTF8'));
    END IF;
    UPDATE audit_heads SET last_seq = NEW.chain_seq, last_hash = NEW.hash WHERE chain = TG_TABLE_NAME;
    RETURN NEW;
END $$;

CREATE TRIGGER events_audit_chain BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION audit_chain();
CREATE TRIGGER registry_history_audit_chain BEFORE INSERT ON registry_history
    FOR EACH ROW EXECUTE FUNCTION audit_chain();

-- Rows written before this migration join the chains in id order.
DO $$
DECLARE
    r record;
    head audit_heads%ROWTYPE;
BEGIN
    FOR r IN SELECT id FROM events ORDER BY id LOOP
        SELECT * INTO head FROM audit_heads WHERE chain = 'events';
        UPDATE events SET chain_seq = head.last_seq + 1, prev_hash = head.last_hash WHERE id = r.id;
        UPDATE events e SET hash = sha256(e.prev_hash || convert_to(audit_event_text(e), 'UTF8')) WHERE id = r.id;
        UPDATE audit_heads SET last_seq = head.last_seq + 1, last_hash = (SELECT hash FROM events WHERE id = r.id)
         WHERE chain = 'events';
    END LOOP;
END $$;
-- (registry_history is append-only by trigger: its earlier rows stay outside the chain, which
-- starts with the first row written after this migration; `axis audit verify` says so.)

CREATE UNIQUE INDEX events_chain_seq ON events (chain_seq);
CREATE UNIQUE INDEX registry_history_chain_seq ON registry_history (chain_seq);

-- Retention: the bytes of an archived package live in a compressed file; its row keeps the digest.
ALTER TABLE packages ADD COLUMN archived_at timestamptz, ADD COLUMN archive_path text;
