"""Metrics (each registers itself in ``METRICS``)."""
