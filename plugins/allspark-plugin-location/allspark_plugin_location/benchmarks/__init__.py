"""Benchmarks of the location plugin (``allspark benchmark <name>``)."""
