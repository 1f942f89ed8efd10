"""Dramatiq actors, one module per job family. A process starts them with `jobs.boot.boot(settings)`."""
