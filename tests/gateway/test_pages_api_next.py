"""Where sign-in sends a person back to: only a path on this site (safe_next)."""

from __future__ import annotations

import httpx
import pytest

from gateway.pages_api import safe_next

KEPT = ["/", "/drops/12", "/me/tickets", "/venue/drops/3?tab=sales#tiers"]
REFUSED = [
    "/\\evil.example/x",  # what /login?next=/%5Cevil.example/x arrives as
    "/\t/evil.example/x",  # ... and next=/%09/evil.example/x
    "/%5Cevil.example/x",  # encoded twice on the wire
    "/%09/evil.example/x",
    "//evil.example/x",
    "///evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "https://evil.example/x",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "drops/12",
    " /drops/12",
    "/drops/12\n",
    "/\r\n/evil.example",
    "/ /evil.example",
    "/\x00",
    "/\u2028evil",
    "/\u202eevil",
    "/é",
    "/a/b%20c",  # whitespace after decoding; none of our paths has any
    "",
    None,
    "/" + "a" * 3000,
]


@pytest.mark.parametrize("value", KEPT)
def test_same_site_paths_are_kept(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize("value", REFUSED)
def test_anything_else_falls_back_to_the_home_page(value: str | None) -> None:
    assert safe_next(value) == "/"


@pytest.mark.parametrize("query", ["next=/%5Cevil.example/x", "next=/%09/evil.example/x",
                                   "next=//evil.example", "next=https://evil.example"])
async def test_the_login_page_renders_only_the_checked_value(
    client: httpx.AsyncClient, query: str
) -> None:
    page = await client.get(f"/login?{query}")
    assert page.status_code == 200
    assert 'data-next="/"' in page.text and "evil" not in page.text
