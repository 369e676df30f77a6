-- Federation through the upstream link (issue 17): what this axis handed to the axis above it,
-- what it took from there, the agencies the upstream knows, and the link's last observed state.

-- The upstream is a system of this axis (id = the link's id): deliveries to it are the packages
-- to forward, packages from it are what the upstream brought. The link names it.
ALTER TABLE upstream_links
    ADD COLUMN last_ok_at         timestamptz,   -- the last call the upstream answered OK
    ADD COLUMN last_error         text,          -- the last failure, as said to the operator
    ADD COLUMN last_error_at      timestamptz,
    ADD COLUMN agencies_synced_at timestamptz;   -- the last complete refresh of external agencies

-- One row per package forwarded (or being forwarded) upstream with sendEdoc. Written *before*
-- the call (state 'sending'), so a crash between the upstream's OK and our acknowledgement is
-- known to be uncertain; 'handed' with the upstream's DocId once it answered OK.
CREATE TABLE upstream_sent (
    package_id      uuid PRIMARY KEY REFERENCES packages (id),
    link_id         text NOT NULL REFERENCES upstream_links (id),
    state           text NOT NULL CHECK (state IN ('sending', 'handed', 'refused')),
    upstream_doc_id text,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    first_tried_at  timestamptz NOT NULL DEFAULT now(),
    handed_at       timestamptz
);
CREATE INDEX upstream_sent_doc ON upstream_sent (upstream_doc_id);

-- One row per upstream document this axis took (or refused): the key of never ingesting the same
-- upstream document twice. 'stored' = accepted locally, the upstream not yet told; 'done' = told;
-- 'own' = a document of this axis's own agencies coming back (nothing to store); 'failed' = local
-- intake refused it: the bytes are kept here for an operator, and the upstream is told 'fail'.
CREATE TABLE upstream_received (
    link_id         text NOT NULL REFERENCES upstream_links (id),
    upstream_doc_id text NOT NULL,
    message_type    text NOT NULL CHECK (message_type IN ('edoc', 'status')),
    state           text NOT NULL CHECK (state IN ('stored', 'done', 'own', 'failed')),
    package_id      uuid REFERENCES packages (id),
    reason          text,
    body            bytea,
    told            boolean NOT NULL DEFAULT false,
    received_at     timestamptz NOT NULL DEFAULT now(),
    told_at         timestamptz,
    PRIMARY KEY (link_id, upstream_doc_id)
);
CREATE INDEX upstream_received_untold ON upstream_received (link_id) WHERE NOT told;
CREATE INDEX upstream_received_package ON upstream_received (package_id);

-- The agencies the upstream knows (getAgenciesList, getAgenciesListQD20, getSynchronizeUnit):
-- read-only here, routed to the upstream, refreshed on a schedule. Kept apart from `agencies`, so
-- no local registry change can touch them and a refresh cannot touch the local registry.
CREATE TABLE external_agencies (
    code            text PRIMARY KEY,
    link_id         text NOT NULL REFERENCES upstream_links (id),
    name            text NOT NULL,
    parent_code     text,
    code_qd20       text,
    mail            text NOT NULL DEFAULT '',
    name_folded     text NOT NULL DEFAULT '',
    refreshed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX external_agencies_qd20 ON external_agencies (code_qd20) WHERE code_qd20 IS NOT NULL;
CREATE INDEX external_agencies_name_trgm ON external_agencies USING gin (name_folded gin_trgm_ops);
