"""The event lane: the event model, sinks, the Operation that publishes, cancellation."""
