"""Credentials never travel in a URL (issue 11, finding 6).

A URL lands in access logs, proxy logs, browser history and Referer headers; a queue
ticket or admission pass found there let anyone, signed out, read a fan's pass or make
them leave the line. The queue endpoints now take the fan's own session (cookie or
bearer) and nothing from the query string, and a request that still carries one of
these names is refused with a 400 that says where the credential goes now, rather than
silently ignored: an old client must learn that it leaks (docs/security.md).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from gateway.problems import Problem

# Query names that once carried a credential, or that a client might try.
CREDENTIAL_QUERY_NAMES = ("ticket", "pass", "token", "access_token")



def refuse_url_credentials(conn: HTTPConnection) -> None:
    """400 when the query string carries a credential; it changes nothing."""
    for name in CREDENTIAL_QUERY_NAMES:
        if name in conn.query_params:
            # Short: it is also a WebSocket close reason (at most 123 bytes).
            raise Problem(400, f"credentials never go in the URL (it is logged): drop ?{name}= "
                               "and send your session (cookie or bearer token)",
                          reason="credential_in_url")
