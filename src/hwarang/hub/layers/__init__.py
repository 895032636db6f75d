"""Map layers served to the common operational picture (cameras, drone tracks)."""
