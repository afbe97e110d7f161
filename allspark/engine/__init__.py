"""Training machinery: runner set-up, safe checkpoints, reproducible resume, hooks."""
