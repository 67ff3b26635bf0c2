"""Files on disk -> ready model objects (one module per family, shared safe checkpoint reading)."""
