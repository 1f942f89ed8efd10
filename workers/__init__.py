"""Process entry points: the `flashflow` CLI, the worker and the scheduler."""
