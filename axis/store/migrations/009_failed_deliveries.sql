-- Failed deliveries by system: what an administrator lists, counts and sends again once the
-- system is mended (axis.exchange.redelivery), and what the systems page counts for every system.
-- Failures are few against all deliveries, so a partial index keeps those reads off the table.
CREATE INDEX deliveries_failed ON deliveries (system_id) WHERE state = 'failed';
