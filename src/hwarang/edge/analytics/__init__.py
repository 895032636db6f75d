"""Video analytics: motion gate, detectors, tracker, rules, and the per-camera pipeline."""
