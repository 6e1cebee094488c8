"""Change detection: event types, the pure planning step, and the coordinator that runs cycles."""
