"""Domain errors. Each part subclasses one of these kinds (e.g. `class SoldOut(Conflict)`);
the gateway maps the kinds to HTTP statuses in one table (gateway/errors.py).

Messages are written for the fan or operator who will read them.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal a service makes on purpose."""

    def __init__(self, detail: str, **fields: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = fields


class Invalid(DomainError):
    """The request makes no sense for this object (422)."""


class NotAuthenticated(DomainError):
    """No valid credentials came with the request (401)."""


class Forbidden(DomainError):
    """Credentials are fine but do not allow this (403)."""


class NotFound(DomainError):
    """No such object, or not one this caller may see (404)."""


class Conflict(DomainError):
    """The object's state forbids this right now (409): sold out, already exists, closed."""


class Gone(DomainError):
    """The thing existed but has expired (410): an expired hold or pass."""


class Busy(DomainError):
    """Try again shortly (503 with Retry-After)."""

    def __init__(self, detail: str, retry_after_s: int = 1, **fields: object) -> None:
        super().__init__(detail, **fields)
        self.retry_after_s = retry_after_s


class RateLimited(DomainError):
    """Too many requests from this client (429 with Retry-After)."""

    def __init__(self, detail: str, retry_after_s: int = 1, **fields: object) -> None:
        super().__init__(detail, **fields)
        self.retry_after_s = retry_after_s
