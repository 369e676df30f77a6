"""RabbitMQ: topology, publishing with confirms, the outbox relay, the intake consumer, management."""
