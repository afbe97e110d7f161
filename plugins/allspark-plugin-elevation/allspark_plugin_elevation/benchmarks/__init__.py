"""Benchmarks of the elevation plugin (``allspark benchmark <name>``)."""
