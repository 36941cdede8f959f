"""The Locust fan's two kinds of connection, run in a process of its own (Locust patches
the standard library with gevent at import, which the test process must not get):

    python -m tests.loadtest.source_address_client PORT INDEX ADDRESSES

makes one HTTP call and opens one socket, as fan number INDEX of ADDRESSES source
addresses; the server under test notes where they came from.
"""

from __future__ import annotations

import sys

from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment

from loadtest.http import bind_source_address
from loadtest.source_addresses import source_for
from loadtest.ws import QueueSocket


def main() -> None:
    port, index, addresses = (int(arg) for arg in sys.argv[1:4])
    environment = Environment()
    base = f"http://127.0.0.1:{port}"
    session = FastHttpSession(base, request_event=environment.events.request, user=None)
    bind_source_address(session, index, addresses)
    if session.get("/peer").status_code != 200:
        raise SystemExit("the HTTP call failed")
    socket = QueueSocket(environment, f"ws://127.0.0.1:{port}/peer",
                         source_address=source_for("127.0.0.1", index, addresses))
    if socket.receive(10, session_seconds=60) is None:
        raise SystemExit("no message on the socket")
    socket.close()


if __name__ == "__main__":
    main()
