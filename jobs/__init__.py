"""Dramatiq actors, one module per job family. Import `jobs.broker.setup_broker` before any actor."""
