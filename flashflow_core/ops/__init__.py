"""Operating the system: Prometheus metrics, dead-letter queues, `flashflow doctor` checks."""
