"""Hub (situation room): ingest, incidents, users, store."""
