"""Evidence: the snapshot store, evidence packages and their check, the audit trail and its chain."""
