"""Edge: one per control center. Decodes cameras, runs video analytics and publishes events."""
