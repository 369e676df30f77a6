-- Security (issue 7): a system may be required to present one of its registered certificates as
-- its TLS client certificate (mutual TLS) on every request its token makes.
ALTER TABLE systems ADD COLUMN require_client_certificate boolean NOT NULL DEFAULT false;
