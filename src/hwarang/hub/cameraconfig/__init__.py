"""Camera configuration from the page and the API: versions, commands to the edge, its answers."""
