-- A sender that receives over AMQP is told when a delivery of its package fails, as it is told
-- of a delivery by its receipt: whatever makes a delivery fail (the dead-letter consumer, the SDK's
-- updateStatus fail, a disabled recipient system), this trigger queues a 'failure' notice for the
-- sender's queue in the same transaction, and the outbox relay publishes it. HTTP senders find
-- failures with GET /api/v1/documents?delivery=failed and in the status view.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('package', 'receipt', 'failure'));
ALTER TABLE outbox ADD COLUMN payload jsonb;  -- the body of a 'failure' notice, fixed when it happened

CREATE FUNCTION tell_sender_of_failure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (message_id, kind, system_id, payload)
    SELECT gen_random_uuid()::text, 'failure', p.sender_system,
           jsonb_build_object('package_id', p.id, 'document_id', p.document_id, 'package_kind', p.kind,
                              'sender', p.sender_code, 'recipient_system', NEW.system_id,
                              'reason', NEW.failed_reason, 'failed_at', now())
      FROM packages p JOIN systems s ON s.id = p.sender_system
     WHERE p.id = NEW.package_id AND s.delivery_amqp;
    RETURN NEW;
END $$;

CREATE TRIGGER deliveries_failed_tell_sender
    AFTER UPDATE OF state ON deliveries
    FOR EACH ROW WHEN (NEW.state = 'failed' AND OLD.state <> 'failed')
    EXECUTE FUNCTION tell_sender_of_failure();
