"""Browser libraries from npm (package.json), served under /static/vendor/.

`make install` runs `npm ci` into the repository's node_modules/; nothing third-party is
committed. Only the files named in VENDOR_FILES are reachable: node_modules holds far more
(sources, type stubs, package metadata) than a browser needs, and none of it should be
fetchable just because it is on disk.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

log = logging.getLogger("ticketq.gateway")

# node_modules beside the package, as an editable install (`make install`) lays it out.
# An installed wheel has no node_modules next to it: pass assets_dir to vendor_mount.
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parent.parent / "node_modules"

# URL path under /static/vendor/ -> file under node_modules/. URLs stay stable when a
# package moves its files between versions; only this table changes.
VENDOR_FILES: Mapping[str, str] = {
    "jsqr/jsQR.js": "jsqr/dist/jsQR.js",
    # altcha's solver (an ES module, no imports of its own): static/challenge.js.
    "altcha/lib.js": "altcha/dist/lib/index.js",
    # Bootstrap 5: the one layout and component set of every page (docs/frontend.md).
    "bootstrap/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "bootstrap/bootstrap.bundle.min.js": "bootstrap/dist/js/bootstrap.bundle.min.js",
    # uPlot: the venue dashboard's live charts (static/dashboard_charts.js).
    "uplot/uPlot.iife.min.js": "uplot/dist/uPlot.iife.min.js",
    "uplot/uPlot.min.css": "uplot/dist/uPlot.min.css",
}


class AllowListedFiles(StaticFiles):
    """StaticFiles (ETag, 304, HEAD, ranges) restricted to the files of an allow-list."""

    def __init__(self, directory: Path, files: Mapping[str, str]) -> None:
        super().__init__(directory=directory, check_dir=False)
        self.files = dict(files)

    def get_path(self, scope: Scope) -> str:
        requested = super().get_path(scope).replace(os.sep, "/")
        served = self.files.get(requested)
        if served is None:
            raise HTTPException(status_code=404)
        return os.path.join(*served.split("/"))

    async def check_config(self) -> None:
        # StaticFiles answers a missing directory with a RuntimeError (a 500); here it means
        # `npm ci` has not run, which vendor_mount logged at startup: every file is a 404.
        if await anyio.to_thread.run_sync(os.path.isdir, str(self.directory)):
            await super().check_config()


def missing_files(assets_dir: Path) -> list[str]:
    return [path for path in VENDOR_FILES.values() if not (assets_dir / path).is_file()]


def vendor_mount(assets_dir: Path = DEFAULT_ASSETS_DIR) -> Mount:
    if missing := missing_files(assets_dir):
        log.warning("front-end libraries not installed under %s (missing %s): run `make install`;"
                    " the door app falls back to manual entry", assets_dir, ", ".join(missing))
    return Mount("/static/vendor", app=AllowListedFiles(assets_dir, VENDOR_FILES),
                 name="vendor")
