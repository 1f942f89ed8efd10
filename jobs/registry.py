"""Every actor module, and declaring their actors on a broker.

Dramatiq binds an actor to the global broker when its module is imported. `declare_actors`
binds every actor of every module listed here to the broker given, so a process that boots
more than once (the tests, `flashflow demo`) always sends through the broker it booted last.
"""

from __future__ import annotations

from types import ModuleType

import dramatiq

from jobs import assignments, credits, hooks, winners

ACTOR_MODULES: tuple[ModuleType, ...] = (winners, assignments, credits, hooks)


def declare_actors(broker: dramatiq.Broker) -> dict[str, dramatiq.Actor]:
    """Import the actor modules, declare each of their actors on `broker`, return {name: actor}."""
    for module in ACTOR_MODULES:
        for actor in vars(module).values():
            if isinstance(actor, dramatiq.Actor) and actor.broker is not broker:
                actor.broker = broker
                broker.declare_actor(actor)
    return {name: broker.get_actor(name) for name in sorted(broker.get_declared_actors())}
