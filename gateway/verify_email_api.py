"""Email verification over HTTP: the page a mailed link opens, its confirming POST, resend.

The link is `/verify-email#token=...`: the token rides in the fragment, which browsers
never send, so no access log, proxy or Referer sees it. The page changes nothing when
loaded (mail scanners pre-fetch links); its script POSTs the token once the person
presses the button (accounts/verification.py, docs/security.md "Email verification").
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

import mail.causes
from accounts import verification
from accounts.users import OnCreated
from core.clock import to_ms
from core.models import User
from core.settings import Settings
from gateway.auth import require_user
from gateway.bodies import StrictBody, read_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.schemas import accounts as schemas
from gateway.templating import templates

# One answer to every resend that is not rate-limited, verified account or not.
RESENT = ("if this account's email still needed verifying, a new link is on its way; "
          "links sent before keep working until they expire")


class VerifyBody(StrictBody):
    token: Annotated[str, Field(min_length=1, max_length=300)]


def enqueue_verification(settings: Settings) -> OnCreated:
    """The sign-up's `on_created`: the verification mail, in the new account's transaction."""
    tokens = verification.VerifyTokens.from_settings(settings)
    base = verification.link_base(settings)

    async def enqueue(session: AsyncSession, user: User) -> None:
        url = verification.verify_url(base, tokens.issue(user))
        await mail.causes.email_verification(session, user, url)

    return enqueue


async def verify_page(request: Request) -> Response:
    """The mailed link's page: a button that confirms (nothing changes on load)."""
    return templates.TemplateResponse(request, "verify_email.html", {})


@documented(body=VerifyBody, response=schemas.EmailVerified)
async def verify(request: Request) -> Response:
    """Confirm an email address with the token from the mailed link. Verifying twice is
    harmless; 401 for a forged token, 410 for an expired one, 403 for a link sent to an
    address the account no longer uses."""
    body = await read_json(request, VerifyBody)
    services = services_of(request)
    async with services.sessionmaker() as session:
        user = await verification.verify_email(
            session, token=body.token,
            tokens=verification.VerifyTokens.from_settings(services.settings),
            now=services.clock())
    return JSONResponse({"email_verified": True, "email": user.email})


@documented(response=schemas.VerificationResent, auth="user", status=202)
async def resend(request: Request) -> Response:
    """Mail the signed-in account a new verification link (429 past the hourly limit)."""
    current = await require_user(request)
    services = services_of(request)
    await verification.check_resend_allowed(services.scripts, services.settings, current.id,
                                            now_ms=to_ms(services.clock()))
    if not current.email_verified:
        async with services.sessionmaker() as session:
            user = await session.get(User, current.id)
            if user is not None:
                await enqueue_verification(services.settings)(session, user)
                await session.commit()
    return JSONResponse({"detail": RESENT}, status_code=202)


routes: list[BaseRoute] = [
    Route("/api/auth/verify-email", verify, methods=["POST"]),
    Route("/api/auth/verify-email/resend", resend, methods=["POST"]),
    Route("/verify-email", verify_page, methods=["GET"], include_in_schema=False),
]

__all__ = ["enqueue_verification", "routes"]
