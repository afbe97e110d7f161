"""Benchmarks of the example plugin (``allspark benchmark waveform``)."""
