"""Every top-level package ships: in the wheel, in the image, in the layer contracts and mypy."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _packages_on_disk() -> set[str]:
    return {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests"}


def test_the_layer_contract_names_every_package() -> None:
    assert set(_pyproject()["tool"]["importlinter"]["root_packages"]) == _packages_on_disk()


def test_the_wheel_includes_every_package() -> None:
    include = _pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {pattern.removesuffix("*") for pattern in include} == _packages_on_disk()


def test_mypy_checks_every_python_package() -> None:
    assert set(_pyproject()["tool"]["mypy"]["packages"]) == _packages_on_disk() - {"lua"}


def test_the_image_copies_every_package() -> None:
    copied = {line.split()[1] for line in (ROOT / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ") and "--from" not in line}
    assert _packages_on_disk() <= copied
