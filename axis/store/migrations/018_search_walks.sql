-- A system's received documents in time order, for the document search's "received" walk
-- (axis.exchange.status.search): without it, finding them read every delivery of every system,
-- a cost that grew with the whole database (scripts/bench_scale.py).
CREATE INDEX deliveries_system_created ON deliveries (system_id, created_at DESC);
