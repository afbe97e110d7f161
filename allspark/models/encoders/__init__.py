"""Generic encoders the core ships (modality-specific ones live in plugins)."""
