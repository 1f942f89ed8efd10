"""Imports every actor module, so a worker or producer started on the broker sees them all.

Call only after `jobs.broker.setup_broker(settings)`: Dramatiq binds actors to the global
broker when their module is imported.
"""

from __future__ import annotations

import importlib

import dramatiq

ACTOR_MODULES: tuple[str, ...] = ("jobs.winners", "jobs.assignments", "jobs.credits", "jobs.hooks")


def load_actors() -> dict[str, dramatiq.Actor]:
    """Import the actor modules and return {actor name: actor} of the global broker."""
    for module in ACTOR_MODULES:
        importlib.import_module(module)
    broker = dramatiq.get_broker()
    return {name: broker.get_actor(name) for name in broker.get_declared_actors()}
