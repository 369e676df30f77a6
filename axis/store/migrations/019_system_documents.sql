-- The documents each system may see, one row per (system, document package): its sender's system
-- and each recipient system (the visibility rule of axis.exchange.visibility, written down once,
-- at intake). The document search walks a system's own rows here, in time order or by the
-- filter's index, instead of every package and delivery: its cost followed the database's size,
-- not the system's (scripts/bench_scale.py: a search by number 200x slower at a million packages).
CREATE TABLE system_documents (
    system_id           text NOT NULL REFERENCES systems (id),
    package_id          uuid NOT NULL REFERENCES packages (id),
    sent                boolean NOT NULL,         -- the system sent it (else: a delivery goes to it)
    received_at         timestamptz NOT NULL,     -- the package's
    code_number         text,                     -- the package's, for the search's filters
    notation_folded     text,                     -- lower(code_notation): the notation filter's equality
    promulgation_date   date,
    PRIMARY KEY (system_id, package_id)
);
CREATE INDEX system_documents_time ON system_documents (system_id, received_at DESC);
CREATE INDEX system_documents_number ON system_documents (system_id, code_number);
CREATE INDEX system_documents_notation ON system_documents (system_id, notation_folded);
CREATE INDEX system_documents_promulgated ON system_documents (system_id, promulgation_date);

INSERT INTO system_documents (system_id, package_id, sent, received_at, code_number, notation_folded,
                              promulgation_date)
SELECT p.sender_system, p.id, true, p.received_at, p.code_number, lower(p.code_notation), p.promulgation_date
  FROM packages p WHERE p.kind = 'document';
INSERT INTO system_documents (system_id, package_id, sent, received_at, code_number, notation_folded,
                              promulgation_date)
SELECT d.system_id, p.id, false, p.received_at, p.code_number, lower(p.code_notation), p.promulgation_date
  FROM deliveries d JOIN packages p ON p.id = d.package_id
 WHERE p.kind = 'document'
ON CONFLICT DO NOTHING;
