-- The national SDK's interface (/vdxp/…): each system's SDK secrets, and the signatures already
-- used (replay protection).

-- The SDK authenticates with an HMAC keyed with a shared secret, so the axis must hold the secret
-- itself: unlike a Bearer token, it cannot be kept as a one-way hash. It is kept sealed instead:
-- AES-256-GCM under a key that lives outside the database (AXIS_VDXP_SECRET_KEY_FILE), with the
-- system id as associated data, so that a copy of the database alone reveals no secret and a
-- sealed secret moved to another system's row does not open. The secret is shown once at issue.
CREATE TABLE system_sdk_secrets (
    id              bigserial PRIMARY KEY,
    system_id       text NOT NULL REFERENCES systems (id),
    sealed          bytea NOT NULL,                   -- version byte, 12-byte nonce, ciphertext and tag
    key_id          text NOT NULL,                    -- which sealing key (first bytes of its SHA-256)
    created_at      timestamptz NOT NULL DEFAULT now(),
    valid_until     timestamptz                       -- NULL while current; set when replaced
);
CREATE INDEX system_sdk_secrets_system ON system_sdk_secrets (system_id, id DESC);

-- A signature (XroadVnpt-hash-header) is accepted once. Rows older than twice the timestamp
-- window can go: a request that old is refused for its timestamp already.
CREATE TABLE vdxp_seen_signatures (
    system_id       text NOT NULL,
    signature       text NOT NULL,
    seen_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (system_id, signature)
);
CREATE INDEX vdxp_seen_signatures_seen_at ON vdxp_seen_signatures (seen_at);
