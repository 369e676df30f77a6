-- Documents as the business sees them (a DocumentId, its state, what replaced it), the links from
-- revoke/update/replace packages to the documents they act on, and failed deliveries when a
-- recipient system is disabled.

CREATE TABLE documents (
    document_id     text PRIMARY KEY,
    sender_code     text NOT NULL,
    sender_system   text NOT NULL REFERENCES systems (id),
    package_id      uuid NOT NULL REFERENCES packages (id),   -- the package that created it (0 or 3)
    state           text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoked', 'superseded')),
    superseded_by   text,
    due_date        date,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_sender_system ON documents (sender_system);

-- revoke (1) and update (2) act on the document with the same DocumentId; replace (3) names the
-- documents it replaces in ReplacementInfoList.
CREATE TABLE document_links (
    package_id          uuid NOT NULL REFERENCES packages (id),
    relation            text NOT NULL CHECK (relation IN ('revokes', 'updates', 'replaces')),
    target_document_id  text NOT NULL REFERENCES documents (document_id),
    PRIMARY KEY (package_id, relation, target_document_id)
);
CREATE INDEX document_links_target ON document_links (target_document_id);

-- A disabled system will not take what waits for it: those deliveries fail, with the reason, and
-- the failure is in the event log like any other step. A trigger, so that no path (CLI, admin
-- API, SQL by an operator) can disable a system and leave its deliveries silently queued.
CREATE FUNCTION fail_deliveries_of_disabled_system() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'disabled' AND OLD.status <> 'disabled' THEN
        WITH failed AS (
            UPDATE deliveries SET state = 'failed', failed_reason = 'the recipient system was disabled'
             WHERE system_id = NEW.id AND state = 'queued'
         RETURNING package_id)
        INSERT INTO events (document_id, package_id, kind, system_id, detail)
        SELECT p.document_id, p.id, 'failed', NEW.id,
               jsonb_build_object('reason', 'the recipient system was disabled')
          FROM failed f JOIN packages p ON p.id = f.package_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER systems_disabled_fail_deliveries
    AFTER UPDATE OF status ON systems
    FOR EACH ROW EXECUTE FUNCTION fail_deliveries_of_disabled_system();
