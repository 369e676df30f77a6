-- A disabled system's queued deliveries still fail, with the same reason and 'failed' events, but
-- no longer from a trigger on systems: the registry's disable (axis.registry.systems.update) calls
-- the one transition that fails deliveries (axis.exchange.deliveries.fail) in the transaction that
-- disables the system, so that every change of a delivery's state is written once, in Python,
-- beside the others. Disable a system through the axis (CLI, admin API, admin pages): an UPDATE of
-- systems typed by hand leaves what waits for it queued.
-- The failure notice to an AMQP sender stays a trigger (010_failure_notices.sql): it reacts to a
-- delivery becoming failed, whatever made it fail.
DROP TRIGGER systems_disabled_fail_deliveries ON systems;
DROP FUNCTION fail_deliveries_of_disabled_system();
