"""Hooks: normalising and hashing hook text, suggesting hooks from posted videos, reviewing
suggestions into proven_hooks, and rolling up their post and winner counts."""
