"""Batch prediction jobs: `miniflow predict` run as a job (same lifecycle, logs, resources)."""
