"""The one place gateway code reads what the app's lifespan built.

Handlers call `services_of(request)` (tests `app_services(app)`) for the process's typed services
(bootstrap.services.Services) and `queue_runtime(conn)` for the gateway's own
position-streaming machinery; nothing else reaches into `app.state`.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from bootstrap.services import Services
from core.script_batching import ScriptBatcher
from gateway.join_guard import GuardConfigs
from gateway.queue_hub import QueueHub
from queue_engine.waiting_room import ConfigLoader


@dataclass(frozen=True)
class QueueRuntime:
    hub: QueueHub  # one read per drop per tick, fanned out to every socket of this process
    batcher: ScriptBatcher  # the herd's script calls share round trips
    guards: GuardConfigs  # each drop's bot guards, read from Postgres once per few seconds
    load_config: ConfigLoader  # a drop's config from Postgres, for its first join (a sync)


def app_services(app: Starlette) -> Services:
    """The services of a running app (inside its lifespan); tests use it too."""
    services: Services = app.state.services
    return services


def services_of(conn: HTTPConnection) -> Services:
    return app_services(conn.app)


def queue_runtime(conn: HTTPConnection) -> QueueRuntime:
    runtime: QueueRuntime = conn.app.state.queue_runtime
    return runtime
