"""A real OpenID Connect provider for tests: node-oidc-provider (npm) on a loopback port.

`oidc_provider_process` runs tests/support/oidc_provider.mjs under a Supervisor (stopped
with the `with`, and by itself if this process dies); `sign_in_at_provider` fills its
development login form over HTTP, as a person would in a browser, and answers the
provider's redirect back to TicketQ (the callback URL with code and state).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx

from core.embedded import free_port
from core.settings import Settings
from core.supervisor import Child, Supervisor

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "support" / "oidc_provider.mjs"
CLIENT_ID, CLIENT_SECRET = "ticketq-tests", "ticketq-tests-client-secret"
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


@dataclass(frozen=True)
class OidcProvider:
    child: Child
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def configure(self, settings: Settings) -> Settings:
        """`settings` with this provider as the one named `google`."""
        return settings.replace(oidc_google_issuer=self.issuer,
                                oidc_google_client_id=self.client_id,
                                oidc_google_client_secret=self.client_secret)


@contextmanager
def oidc_provider_process(log_dir: Path, *, redirect_uris: list[str],
                          port: int | None = None) -> Iterator[OidcProvider]:
    """The provider, with one client (CLIENT_ID) allowed to come back to `redirect_uris`.

    Its login names choose the person (tests/support/oidc_provider.mjs `claimsOf`):
    "unverified:<email>", "<email>", or a name for <name>@example.test."""
    node = shutil.which("node")
    assert node, "node (20+) runs the test OIDC provider; `make install` installs it via npm"
    port = port or free_port()
    config = {"clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                           "redirect_uris": redirect_uris}]}
    issuer = f"http://127.0.0.1:{port}"
    with Supervisor(log_dir, cwd=ROOT) as supervisor:
        child = supervisor.start(f"oidc-provider-{port}",
                                 [node, str(SCRIPT), str(port), json.dumps(config)], url=issuer)
        supervisor.wait_http(child, f"{issuer}/.well-known/openid-configuration", 30)
        yield OidcProvider(child, issuer)


async def sign_in_at_provider(authorize_url: str, login: str) -> str:
    """Open the provider's authorization URL, fill its login form, follow it until it
    redirects away from itself; answer that redirect (TicketQ's callback URL)."""
    async with httpx.AsyncClient(timeout=20, follow_redirects=False) as browser:
        url, provider = authorize_url, httpx.URL(authorize_url).netloc
        for _ in range(10):
            response = await browser.get(url)
            if response.status_code == 200:
                action = FORM_ACTION.search(response.text)
                assert action, f"no form on the provider's page: {response.text[:500]}"
                response = await browser.post(urljoin(url, action.group(1)), data={
                    "prompt": "login", "login": login, "password": "any password"})
            assert response.status_code in {302, 303}, response.text[:500]
            url = urljoin(url, response.headers["location"])
            if httpx.URL(url).netloc != provider:
                return url
    raise AssertionError("the provider never redirected back")
