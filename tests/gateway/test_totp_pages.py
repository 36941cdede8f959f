"""/account/security: the 2FA section's page, linked from every page's header."""

from __future__ import annotations

import httpx


async def test_the_security_page_has_the_2fa_section_and_the_header_links_it(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/account/security")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for marker in ('id="totp-start"', 'id="totp-confirm"', 'id="totp-disable"',
                   'src="/static/security.js"'):
        assert marker in page.text
    home = await client.get("/login")
    assert 'href="/account/security"' in home.text and 'id="login-totp"' in home.text
