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

-- registry_history: few writes, so each row is chained as it is inserted. The head row is locked
-- until the inserting transaction commits, so the chain order is the commit order.
CREATE FUNCTION audit_chain_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head audit_heads%ROWTYPE;
BEGIN
    SELECT * INTO head FROM audit_heads WHERE chain = 'registry_history' FOR UPDATE;
    NEW.chain_seq := head.last_seq + 1;
    NEW.prev_hash := head.last_hash;
    NEW.hash := sha256(NEW.prev_hash || convert_to(audit_history_text(NEW), 'UTF8'));
    UPDATE audit_heads SET last_seq = NEW.chain_seq, last_hash = NEW.hash WHERE chain = 'registry_history';
    RETURN NEW;
END $$;
CREATE TRIGGER registry_history_audit_chain BEFORE INSERT ON registry_history
    FOR EACH ROW EXECUTE FUNCTION audit_chain_history();

-- events: many writes from every intake, fetch and acknowledgement. Chaining them as they are
-- inserted would serialize every one of those transactions on the head row across its commit;
-- instead a linker (every axis process, one at a time under an advisory lock) chains committed rows
-- in id order shortly after they are written: `audit_link_events` below. Rows younger than the
-- settle delay are not yet protected; `axis audit verify` counts them.
CREATE INDEX events_unchained ON events (id) WHERE chain_seq IS NULL;

CREATE FUNCTION audit_link_events(settle interval, batch integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    head audit_heads%ROWTYPE;
    r events%ROWTYPE;
    linked integer := 0;
    digest bytea;
BEGIN
    SELECT * INTO head FROM audit_heads WHERE chain = 'events' FOR UPDATE;
    FOR r IN SELECT * FROM events WHERE chain_seq IS NULL AND at < now() - settle ORDER BY id LIMIT batch LOOP
        r.chain_seq := head.last_seq + 1;
        r.prev_hash := head.last_hash;
        digest := sha256(r.prev_hash || convert_to(audit_event_text(r), 'UTF8'));
        UPDATE events SET chain_seq = r.chain_seq, prev_hash = r.prev_hash, hash = digest WHERE id = r.id;
        head.last_seq := r.chain_seq;
        head.last_hash := digest;
        linked := linked + 1;
    END LOOP;
    UPDATE audit_heads SET last_seq = head.last_seq, last_hash = head.last_hash WHERE chain = 'events';
    RETURN linked;
END $$;

CREATE UNIQUE INDEX events_chain_seq ON events (chain_seq);
CREATE UNIQUE INDEX registry_history_chain_seq ON registry_history (chain_seq);
-- (registry_history is append-only by trigger: rows written before this migration stay outside
-- the chain, which starts with the first row written after it; `axis audit verify` says so.)

-- Retention: the bytes of an archived package live in a compressed file; its row keeps the digest.
ALTER TABLE packages ADD COLUMN archived_at timestamptz, ADD COLUMN archive_path text;
