"""`python -m mail.dev_smtp --folder DIR --port N`: a local SMTP server that keeps mail.

An aiosmtpd server on loopback for `make demo` and the tests: it accepts every message
and keeps it in the development mailbox (mail/mailbox.py), one copy per Message-ID.
Each DATA also appends a line to `DIR/received.log` ("<Message-ID> stored|duplicate"),
so tests can see resends that the mailbox dropped.

`--reply-delay S` waits S seconds after keeping a message before answering 250: the
window in which a sender that dies has delivered without knowing it (tests kill a
worker there).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from core.clock import utcnow
from mail.mailbox import store

READY_LINE = "dev smtp listening on"


class KeepingHandler:
    def __init__(self, folder: Path, reply_delay_s: float) -> None:
        self.folder = folder
        self.reply_delay_s = reply_delay_s

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        from email import message_from_bytes, policy

        raw = envelope.original_content or b""
        message_id = str(message_from_bytes(raw, policy=policy.default).get("Message-ID", ""))
        kept = store(self.folder, raw, message_id=message_id, received_at=utcnow())
        with (self.folder / "received.log").open("a") as log:
            log.write(f"{message_id} {'stored' if kept else 'duplicate'}\n")
        if self.reply_delay_s:
            await asyncio.sleep(self.reply_delay_s)
        return "250 Message accepted for delivery"


async def serve(folder: Path, host: str, port: int, reply_delay_s: float = 0) -> None:
    handler = KeepingHandler(folder, reply_delay_s)
    loop = asyncio.get_running_loop()

    def protocol() -> Any:
        return SMTP(handler, hostname="ticketq-dev-smtp", decode_data=False)

    server = await loop.create_server(protocol, host=host, port=port)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    bound = server.sockets[0].getsockname()[1]
    print(f"{READY_LINE} smtp://{host}:{bound} keeping mail in {folder}", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mail.dev_smtp", description=__doc__)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply-delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.folder, args.host, args.port, args.reply_delay))


if __name__ == "__main__":
    main()
