"""HTTP and WebSocket API of the hub (FastAPI): REST resources, auth, live incident stream."""
