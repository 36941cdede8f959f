"""ASGI entry point for uvicorn: `uvicorn gateway.asgi:app` with REDIS_URL and DATABASE_URL set."""

from __future__ import annotations

import gc

from core import logs
from core.settings import Settings
from gateway import log_redaction
from gateway.app import create_app
from gateway.disconnects import quiet_disconnects
from gateway.queue_api import SOCKET_ROUTE
from gateway.socket_lane import socket_lane

settings = Settings.from_env()
# uvicorn has configured its loggers by the time it imports this module.
log_redaction.install()
logs.configure(settings.log_format)
settings.check_production()
# Outermost: a client's departure never reaches uvicorn as "Exception in ASGI application".
# The waiting fans' sockets skip the app's layers, which they do not use (gateway.socket_lane).
app = quiet_disconnects(socket_lane(create_app(settings), SOCKET_ROUTE))

# What start-up built (modules, routes, the app) lives as long as the process: keep the
# collector's full passes off it. Each walked all of it, pausing the loop up to 114 ms
# under a herd of joins (docs/performance.md, "Full collections"); collect first, so
# no garbage is frozen with it.
gc.collect()
gc.freeze()
