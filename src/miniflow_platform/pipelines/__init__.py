"""Pipelines: DAGs of steps that run as the owner's jobs, advanced by the scheduler."""
