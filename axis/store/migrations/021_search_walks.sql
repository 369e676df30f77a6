-- The document search's filters, each answered by walking an index of the caller's own rows in
-- the list's order and stopping when the page is full, or by starting from the few rows that
-- match, so that a page costs the same whatever the size of the history (scripts/bench_scale.py:
-- at two million packages most filters took 60-850 ms against ~2 ms on an empty base).
--
-- The list's whole order, package id included: with received_at alone the planner sorted what
-- the walk returned and read thousands of rows for a page of fifty.
DROP INDEX system_documents_time;
CREATE INDEX system_documents_time ON system_documents (system_id, received_at DESC, package_id);

-- Received / sent: a walk in time order that skips the other direction's rows costs as many rows
-- as the other direction holds; one index per direction skips none.
CREATE INDEX system_documents_received ON system_documents (system_id, received_at DESC, package_id) WHERE NOT sent;
CREATE INDEX system_documents_sent ON system_documents (system_id, received_at DESC, package_id) WHERE sent;

-- Promulgation dates: a search by dates lists the documents promulgated newest first (then by
-- arrival), walking the range in this index's order a page at a time, instead of reading the
-- whole range to sort it by arrival.
DROP INDEX system_documents_promulgated;
CREATE INDEX system_documents_promulgated
    ON system_documents (system_id, promulgation_date DESC, received_at DESC, package_id);

-- Subject words: tested on the system's own rows (a small table the walk reads in order), not on
-- each package's row (a random read of the biggest table for every row walked).
ALTER TABLE system_documents ADD COLUMN subject_folded text;
UPDATE system_documents sd SET subject_folded = p.subject_folded FROM packages p
 WHERE p.id = sd.package_id AND p.subject_folded IS NOT NULL;
-- Nothing searches packages by subject any more: the trigram index only cost every intake.
DROP INDEX packages_subject_trgm;

-- delivery=failed / waiting: the sender's failed or waiting deliveries, found through partial
-- indexes that hold only those (a recipient's own are in deliveries_failed / deliveries_waiting),
-- instead of every failed delivery of the axis joined to the sender's documents.
ALTER TABLE deliveries ADD COLUMN sender_system text;
UPDATE deliveries d SET sender_system = p.sender_system FROM packages p WHERE p.id = d.package_id;
ALTER TABLE deliveries ALTER COLUMN sender_system SET NOT NULL;
CREATE INDEX deliveries_failed_by_sender ON deliveries (sender_system, package_id) WHERE state = 'failed';
CREATE INDEX deliveries_waiting_by_sender ON deliveries (sender_system, package_id) WHERE state = 'queued';
-- The recipient's failed ones by package too: the status counts probe them one package at a time.
DROP INDEX deliveries_failed;
CREATE INDEX deliveries_failed ON deliveries (system_id, package_id) WHERE state = 'failed';
