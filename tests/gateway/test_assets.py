"""Front-end libraries come from npm (package.json), never from files committed to the tree."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import all_routes
from gateway.vendor_assets import DEFAULT_ASSETS_DIR, VENDOR_FILES, vendor_mount

ROOT = Path(__file__).resolve().parents[2]
# Libraries the gateway has used, by the file names their projects ship.
KNOWN_VENDORED = {"jsqr.js", "jsqr.min.js", "jsqr.license", "chart.js", "chart.min.js",
                  "chart.umd.js", "stripe.js", "altcha.js", "hcaptcha.js", "qrcode.js"}
# What a file written by another project tends to open with. Joined at run time, so this
# file does not itself look like a licence header to tools that grep the tree for one.
THIRD_PARTY_MARKS = tuple("".join(parts) for parts in (
    ("/*", "!"), ("@", "license"), ("webpackUniversal", "ModuleDefinition"),
    ("Licensed under the ", "Apache License"), ("Permission is hereby ", "granted"),
))


def _tracked(*paths: str) -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", *paths], cwd=ROOT,
                                capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [name for name in listed.stdout.decode().split("\0") if name]


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def test_no_tracked_file_is_a_vendored_library() -> None:
    static = _tracked("gateway/static")
    assert static, "gateway/static should hold the project's own scripts"
    assert not [name for name in static if Path(name).name.lower() in KNOWN_VENDORED]
    for name in static:
        opening = (ROOT / name).read_text(errors="replace")[:600]
        assert not [mark for mark in THIRD_PARTY_MARKS if mark in opening], name
    assert _tracked("node_modules") == []


def test_package_lock_pins_jsqr_from_the_npm_registry() -> None:
    manifest = json.loads((ROOT / "package.json").read_text())
    assert manifest["private"] is True and manifest["name"] == "ticketq-frontend"
    pinned = manifest["dependencies"]["jsqr"]
    assert pinned[0].isdigit(), "an exact version, not a range"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/jsqr"]["version"] == pinned
    for name, package in lock["packages"].items():
        resolved = package.get("resolved", "https://registry.npmjs.org/")
        assert resolved.startswith("https://registry.npmjs.org/"), name
        assert name == "" or package["integrity"].startswith("sha512-"), name


async def test_the_gateway_serves_jsqr_from_node_modules() -> None:
    installed = DEFAULT_ASSETS_DIR / "jsqr" / "dist" / "jsQR.js"
    assert installed.is_file(), "run `make install` (npm ci) first"
    async with _client(Starlette(routes=all_routes())) as client:
        served = await client.get("/static/vendor/jsqr/jsQR.js")
        assert served.status_code == 200 and served.content == installed.read_bytes()
        assert served.headers["content-type"].startswith("text/javascript")
        again = await client.get("/static/vendor/jsqr/jsQR.js",
                                 headers={"if-none-match": served.headers["etag"]})
        assert again.status_code == 304


@pytest.mark.parametrize("path", [
    "jsqr/dist/jsQR.js", "jsqr/package.json", "jsqr/LICENSE", "jsqr/dist/index.d.ts",
    ".package-lock.json", "jsqr/", "", "jsqr/../jsqr/package.json", "%2e%2e/package.json",
    "JSQR/JSQR.JS", "jsqr/jsQR.js.map",
])
async def test_nothing_outside_the_allow_list_is_reachable(path: str) -> None:
    async with _client(Starlette(routes=all_routes())) as client:
        answer = await client.get(f"/static/vendor/{path}")
    assert answer.status_code == 404 and b"jsQR" not in answer.content


async def test_writes_are_refused() -> None:
    async with _client(Starlette(routes=all_routes())) as client:
        answer = await client.post("/static/vendor/jsqr/jsQR.js", content=b"x")
    assert answer.status_code == 405


async def test_missing_node_modules_is_a_warning_and_404s_not_500s(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ticketq.gateway"):
        mount = vendor_mount(tmp_path / "node_modules")
    assert "make install" in caplog.text and VENDOR_FILES["jsqr/jsQR.js"] in caplog.text
    async with _client(Starlette(routes=[mount])) as client:
        for path in VENDOR_FILES:
            assert (await client.get(f"/static/vendor/{path}")).status_code == 404
