-- The exchange: accepted packages (bytes exactly as received), their recipients and deliveries,
-- the event log the status views are read from, the outbox the publisher drains, and receipts.

CREATE TABLE packages (
    id                  uuid PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('document', 'status')),
    -- What duplicate detection keys on: a document by its DocumentId and business type, a status
    -- package by its digest. The same key with other bytes is a conflict (409).
    dedupe_key          text NOT NULL UNIQUE,
    document_id         text NOT NULL,            -- for a status: the DocumentId it answers
    sender_code         text NOT NULL,
    sender_system       text NOT NULL REFERENCES systems (id),
    business_type       smallint,                 -- documents: 0 new, 1 revoke, 2 update, 3 replace
    status_code         text,                     -- status packages
    code_number         text,
    code_notation       text,
    subject             text,
    subject_folded      text,                     -- accent-free, lower case: for search
    promulgation_date   date,
    due_date            date,
    digest              text NOT NULL,            -- sha256 hex of body
    size                integer NOT NULL,
    body                bytea NOT NULL,
    signer_subject      text,
    signer_fingerprint  text,
    signature_policy    text NOT NULL,            -- strict | legacy:sha1 | legacy:unsigned
    quirks              jsonb NOT NULL DEFAULT '[]',
    received_via        text NOT NULL CHECK (received_via IN ('http', 'amqp')),
    received_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX packages_document ON packages (document_id);
CREATE INDEX packages_sender_system ON packages (sender_system, received_at DESC);
CREATE INDEX packages_subject_trgm ON packages USING gin (subject_folded gin_trgm_ops);
ALTER TABLE packages ALTER COLUMN body SET STORAGE EXTERNAL;  -- already compressed (base64 of PDFs)

-- One row per recipient agency as the sender addressed it, and where it was routed.
CREATE TABLE package_recipients (
    package_id      uuid NOT NULL REFERENCES packages (id),
    requested_code  text NOT NULL,
    agency_code     text NOT NULL,
    system_id       text NOT NULL REFERENCES systems (id),
    redirects       text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (package_id, requested_code)
);
CREATE INDEX package_recipients_system ON package_recipients (system_id, package_id);
CREATE INDEX package_recipients_agency ON package_recipients (agency_code);

-- One row per recipient system: the package on its way there.
CREATE TABLE deliveries (
    package_id      uuid NOT NULL REFERENCES packages (id),
    system_id       text NOT NULL REFERENCES systems (id),
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'delivered', 'failed')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,                  -- confirmed by RabbitMQ (AMQP systems)
    fetched_at      timestamptz,                  -- first HTTP download
    delivered_at    timestamptz,                  -- the recipient acknowledged
    failed_reason   text,
    PRIMARY KEY (package_id, system_id)
);
CREATE INDEX deliveries_waiting ON deliveries (system_id, created_at) WHERE state = 'queued';

-- Signed statements of the axis: accepted (to the sender), delivered (to the sender, per system).
CREATE TABLE receipts (
    id              uuid PRIMARY KEY,
    package_id      uuid NOT NULL REFERENCES packages (id),
    kind            text NOT NULL CHECK (kind IN ('acceptance', 'delivery')),
    for_system      text NOT NULL REFERENCES systems (id),  -- who receives it: the sender's system
    about_system    text REFERENCES systems (id),           -- delivery receipts: the recipient system
    body            bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    UNIQUE (package_id, kind, about_system)
);
CREATE INDEX receipts_waiting ON receipts (for_system, created_at) WHERE acknowledged_at IS NULL;

-- What happened to a document, in order: the status views read from here.
CREATE TABLE events (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    document_id     text NOT NULL,
    package_id      uuid REFERENCES packages (id),
    kind            text NOT NULL,            -- accepted, published, fetched, delivered, status, receipt
    system_id       text,
    agency_code     text,
    detail          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_document ON events (document_id, id);

-- Messages to publish to RabbitMQ. Written in the transaction that accepts a package, removed
-- once RabbitMQ confirmed: a lost confirm means the relay publishes again (consumers de-duplicate
-- by message id).
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    message_id      text NOT NULL,            -- package id or receipt id
    kind            text NOT NULL CHECK (kind IN ('package', 'receipt')),
    system_id       text NOT NULL REFERENCES systems (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);
