"""The event store's tables, as versioned SQL migrations (component ``eventstore``)."""
