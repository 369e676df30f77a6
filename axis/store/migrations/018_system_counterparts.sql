-- Whom each system exchanges documents with, for the clerk's search form: the sender's system with
-- each recipient agency, each recipient system with the sender (axis.exchange.store.accept keeps
-- it, in the accepting statement). Read from history on every page before, a cost that grew with
-- the system's whole history (scripts/bench_scale.py); now a look-up. Filled from history once here.
CREATE TABLE system_counterparts (
    system_id   text NOT NULL REFERENCES systems (id),
    agency_code text NOT NULL,
    PRIMARY KEY (system_id, agency_code)
);

INSERT INTO system_counterparts (system_id, agency_code)
SELECT p.sender_system, r.agency_code
  FROM packages p JOIN package_recipients r ON r.package_id = p.id
 WHERE p.kind = 'document'
UNION
SELECT r.system_id, p.sender_code
  FROM packages p JOIN package_recipients r ON r.package_id = p.id
 WHERE p.kind = 'document'
ON CONFLICT DO NOTHING;
