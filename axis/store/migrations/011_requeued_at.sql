-- When a failed delivery was last put back in the queue (axis.exchange.redelivery): the
-- acknowledgement deadline runs from then, in the status view and in the systems list alike.
ALTER TABLE deliveries ADD COLUMN requeued_at timestamptz;
