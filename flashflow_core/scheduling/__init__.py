"""Schedules: the schedules.yaml model, crontab translation, and the single-fire ledger."""
