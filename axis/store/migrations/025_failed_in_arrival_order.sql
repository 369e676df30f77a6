-- delivery=failed / waiting: failed deliveries pile up until an operator sends them again (and
-- waiting ones while a recipient is away), and the search read all of the caller's to sort them
-- by arrival (scripts/bench_scale.py at ten million packages, a year's failures never sent again:
-- 20 ms for a page). Held in arrival order (a delivery's created_at is its package's
-- received_at), a page walks the newest few instead. A probe of one package's delivery goes by
-- the primary key; counting and listing a system's failures (admin list, `axis systems failed`,
-- requeue) read these as they read the old ones. Each holds only failed or only waiting
-- deliveries: building them reads `deliveries` once. (A recipient's waiting ones stay in
-- deliveries_waiting, by time, which its inbox reads.)
DROP INDEX deliveries_failed;
CREATE INDEX deliveries_failed ON deliveries (system_id, created_at DESC, package_id) WHERE state = 'failed';
DROP INDEX deliveries_failed_by_sender;
CREATE INDEX deliveries_failed_by_sender ON deliveries (sender_system, created_at DESC, package_id)
    WHERE state = 'failed';
DROP INDEX deliveries_waiting_by_sender;
CREATE INDEX deliveries_waiting_by_sender ON deliveries (sender_system, created_at DESC, package_id)
    WHERE state = 'queued';
