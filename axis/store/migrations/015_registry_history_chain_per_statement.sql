-- The registry history's chain advanced its head in audit_heads once per inserted row: one
-- UPDATE of the same row for each history row. Within one transaction PostgreSQL cannot prune
-- the versions those updates leave behind, so each next row's read of the head walked all of
-- them: importing 112,000 agencies (one history row each, one statement) spent about 250 s there,
-- where the import without the chain took under 10 s.
--
-- The running head now lives in a transaction-local setting while rows are inserted, and
-- audit_heads is written once per statement (after it). The head row is still locked by the
-- transaction's first history row until it commits, so the chain order is still the commit
-- order; the chain itself (sequence numbers, what is hashed, how) is exactly as before, so
-- `axis audit verify` reads old and new rows alike. A savepoint rolled back takes its rows, its
-- audit_heads write and its setting with it.
CREATE OR REPLACE FUNCTION audit_chain_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    running text := current_setting('axis.registry_history_head', true);
    seq bigint;
    last bytea;
BEGIN
    IF running IS NULL OR running = '' THEN  -- the transaction's first history row
        SELECT last_seq, last_hash INTO seq, last FROM audit_heads WHERE chain = 'registry_history' FOR UPDATE;
    ELSE
        seq := split_part(running, ':', 1)::bigint;
        last := decode(split_part(running, ':', 2), 'hex');
    END IF;
    NEW.chain_seq := seq + 1;
    NEW.prev_hash := last;
    NEW.hash := sha256(NEW.prev_hash || convert_to(audit_history_text(NEW), 'UTF8'));
    PERFORM set_config('axis.registry_history_head', NEW.chain_seq || ':' || encode(NEW.hash, 'hex'), true);
    RETURN NEW;
END $$;

CREATE FUNCTION audit_store_history_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    running text := current_setting('axis.registry_history_head', true);
BEGIN
    IF running IS NOT NULL AND running <> '' THEN
        UPDATE audit_heads
           SET last_seq = split_part(running, ':', 1)::bigint, last_hash = decode(split_part(running, ':', 2), 'hex')
         WHERE chain = 'registry_history' AND last_seq <> split_part(running, ':', 1)::bigint;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER registry_history_audit_head AFTER INSERT ON registry_history
    FOR EACH STATEMENT EXECUTE FUNCTION audit_store_history_head();
