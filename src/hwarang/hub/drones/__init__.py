"""Drones: tracks, geofence watch, the fusion hook, their store."""
