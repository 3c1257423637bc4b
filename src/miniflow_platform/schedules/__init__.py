"""Schedules: run a pipeline or a job on a cron expression (docs/platform.md, Schedules)."""
