"""Video assignments: expiry of stale assignments and legacy claims."""
