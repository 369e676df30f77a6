-- A provincial (or ministerial) axis's link to the axis above it, through the national SDK's
-- interface (issue 17): the upstream's /vdxp endpoint, the system id and the secret the upstream
-- gave this axis (sealed, as SDK secrets are: axis.vdxp.secret), and the agency subtrees this axis
-- serves itself; a recipient outside them is the upstream's. One row per link.
CREATE TABLE upstream_links (
    id             text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9-]{0,31}$'),
    endpoint       text NOT NULL CHECK (endpoint ~ '^https?://'),
    system_id      text NOT NULL CHECK (system_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    serves         text[] NOT NULL DEFAULT '{}',
    secret_sealed  bytea,
    secret_key_id  text,
    secret_set_at  timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
