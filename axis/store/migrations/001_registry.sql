-- The registry: agencies (agency identifier codes), connected systems, what they serve, their
-- credentials, and the append-only history of every change.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE agencies (
    code            text PRIMARY KEY,                 -- QCVN 102 form DDD.CC.BB.LNN
    -- Decision 20/2020 form, when known. Deferrable: an import may swap two agencies' codes.
    code_qd20       text UNIQUE DEFERRABLE INITIALLY IMMEDIATE,
    name            text NOT NULL CHECK (name <> ''),
    name_folded     text NOT NULL,                    -- lower case, accents removed: for search
    parent_code     text REFERENCES agencies (code) DEFERRABLE INITIALLY DEFERRED,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    successor_code  text REFERENCES agencies (code) DEFERRABLE INITIALLY DEFERRED,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    retired_at      timestamptz,
    CHECK (successor_code IS NULL OR status = 'retired'),
    CHECK (successor_code IS DISTINCT FROM code)
);
CREATE INDEX agencies_parent ON agencies (parent_code);
CREATE INDEX agencies_code_prefix ON agencies (code text_pattern_ops);
CREATE INDEX agencies_name_trgm ON agencies USING gin (name_folded gin_trgm_ops);

CREATE TABLE systems (
    id              text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name            text NOT NULL CHECK (name <> ''),
    contact         text NOT NULL DEFAULT '',
    delivery_http   boolean NOT NULL DEFAULT true,
    delivery_amqp   boolean NOT NULL DEFAULT false,
    allow_sha1      boolean NOT NULL DEFAULT false,   -- legacy signature policy, per system
    allow_unsigned  boolean NOT NULL DEFAULT false,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A system serves every agency under each of its bindings; the most specific binding wins.
CREATE TABLE bindings (
    agency_code     text PRIMARY KEY REFERENCES agencies (code),
    system_id       text NOT NULL REFERENCES systems (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bindings_system ON bindings (system_id);

CREATE TABLE system_tokens (
    id              bigserial PRIMARY KEY,
    system_id       text NOT NULL REFERENCES systems (id),
    token_hash      text NOT NULL UNIQUE,             -- sha256 hex of the token; the token is shown once
    label           text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);
CREATE INDEX system_tokens_system ON system_tokens (system_id);

CREATE TABLE system_certificates (
    fingerprint     text PRIMARY KEY,                 -- sha256 hex of the DER certificate
    system_id       text NOT NULL REFERENCES systems (id),
    pem             text NOT NULL,
    subject         text NOT NULL,
    agency_code     text,                             -- the code the certificate names, if any
    not_before      timestamptz NOT NULL,
    not_after       timestamptz NOT NULL,
    added_at        timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);
CREATE INDEX system_certificates_system ON system_certificates (system_id);

CREATE TABLE admin_tokens (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL,
    token_hash      text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);

-- Who changed what, when, from what to what. Append-only: the trigger below refuses rewrites.
CREATE TABLE registry_history (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,
    action          text NOT NULL,                    -- agency.create, agency.rename, system.token.issue …
    subject_kind    text NOT NULL,                    -- agency, system
    subject_id      text NOT NULL,
    before          jsonb,
    after           jsonb
);
CREATE INDEX registry_history_subject ON registry_history (subject_kind, subject_id, id);
CREATE INDEX registry_history_at ON registry_history (at);

CREATE FUNCTION registry_history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'registry_history is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER registry_history_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON registry_history
    FOR EACH STATEMENT EXECUTE FUNCTION registry_history_is_append_only();

-- Bumped by every registry change, in the same transaction, so that a cache can tell whether it
-- is current; each change also sends NOTIFY axis_registry with the new version.
CREATE TABLE registry_version (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version         bigint NOT NULL
);
INSERT INTO registry_version VALUES (true, 0);
