"""Benchmarks of lexcrm: scripts run by hand (`python -m benchmarks.<name>`), not tests."""
