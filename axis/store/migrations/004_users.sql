-- The web pages (axis/web): people who log in (clerks bound to one system, administrators), their
-- sessions, and CSV imports waiting for an administrator to confirm their dry-run diff.

CREATE TABLE web_users (
    id                  bigserial PRIMARY KEY,
    username            text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    full_name           text NOT NULL DEFAULT '',
    role                text NOT NULL CHECK (role IN ('clerk', 'admin')),
    -- A clerk sees what one system sent and received; an administrator belongs to no system.
    system_id           text REFERENCES systems (id),
    -- scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>: the parameters travel with the hash, so they can grow.
    password_hash       text NOT NULL,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    -- Log-in attempts since the last success, counted BEFORE the password is checked, so that
    -- concurrent guesses cannot exceed the limit; at the limit the account locks for a while.
    failed_logins       integer NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    last_login_at       timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'clerk') = (system_id IS NOT NULL))
);
CREATE INDEX web_users_system ON web_users (system_id);

-- One row per log-in. The cookie (encrypted, HttpOnly) carries a random secret whose SHA-256 is
-- the id here, so a copy of this table cannot be replayed as cookies; log-out, a password change
-- or disabling the user ends sessions here, whatever cookies are still around.
CREATE TABLE web_sessions (
    id              text PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES web_users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    ended_at        timestamptz
);
CREATE INDEX web_sessions_user ON web_sessions (user_id) WHERE ended_at IS NULL;

-- A CSV upload after its dry run: confirming applies the same bytes, re-planned, only when the
-- plan still has the digest the administrator saw.
CREATE TABLE web_import_drafts (
    id              uuid PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES web_users (id),
    filename        text NOT NULL DEFAULT '',
    body            bytea NOT NULL,
    partial         boolean NOT NULL DEFAULT false,
    plan_digest     text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
