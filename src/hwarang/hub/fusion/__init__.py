"""Fusion: the ingest step, correlation of events into incidents, severity, merge and split."""
