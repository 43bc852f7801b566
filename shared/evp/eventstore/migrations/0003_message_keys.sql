-- The Kafka message key of each event: its catalog key's value (the aggregate id), the key
-- EventBus.publish sends, so the outbox relay publishes a stored event under the same key
-- and partition. Nullable: events stored before this migration have none, and the relay
-- keeps keying those by their stream id. Adding a nullable column without a default
-- rewrites no rows.
ALTER TABLE evp_events ADD COLUMN key text;
