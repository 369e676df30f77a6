-- The addresses a system's requests may come from (axis systems policy ID --addresses …): an
-- allow-list of networks in CIDR form, empty for any address. It binds a system's credentials to
-- its own servers, which matters most for the national SDK, whose signed requests can be reused
-- by whoever captures one (axis.vdxp.replay).
ALTER TABLE systems ADD COLUMN allowed_addresses text[] NOT NULL DEFAULT '{}';
