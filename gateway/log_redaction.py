"""Keep credentials out of the gateway's own log lines.

uvicorn logs every request's path with its query string (HTTP on `uvicorn.access`,
WebSocket handshakes on `uvicorn.error`). The gateway refuses credentials in URLs
(gateway.url_credentials), but an old or careless client still sends them, and the
refusal is logged like any request: this filter blanks the values of those query
names before a line is written, so logs (often readable by more people than the
data) never hold a usable ticket, pass or token.

Some credentials belong in a URL by protocol: an OpenID Connect provider redirects the
browser to the callback with `?code=…&state=…`. The gateway must accept those, so they
are not refused, but an authorization code is still a credential (anyone who reads the
log line before the callback redeems it could try), so the log never keeps it either.
"""

from __future__ import annotations

import logging
import re

from gateway.url_credentials import CREDENTIAL_QUERY_NAMES

REDACTED = "[redacted]"
UVICORN_LOGGERS = ("uvicorn.access", "uvicorn.error")
# Credentials a protocol puts in the URL (the OIDC callback): accepted, but never logged.
PROTOCOL_QUERY_CREDENTIALS = ("code", "state")

_NAMES = "|".join(map(re.escape, CREDENTIAL_QUERY_NAMES + PROTOCOL_QUERY_CREDENTIALS))
_CREDENTIAL_IN_QUERY = re.compile(rf"([?&](?:{_NAMES})=)[^&\s\"#]*", re.IGNORECASE)


def redact(text: str) -> str:
    return _CREDENTIAL_IN_QUERY.sub(lambda match: match.group(1) + REDACTED, text)


class RedactUrlCredentials(logging.Filter):
    """Rewrites a record's message and string arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        return True


def install(loggers: tuple[str, ...] = UVICORN_LOGGERS) -> None:
    """Add the filter to uvicorn's loggers (once: installing again adds nothing)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUrlCredentials) for f in logger.filters):
            logger.addFilter(RedactUrlCredentials())
