"""Reading deploy/kubernetes the way kubectl would: every YAML document of every file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
KUSTOMIZATION = KUBERNETES / "kustomization.yaml"


def resource_files() -> list[Path]:
    return sorted(path for path in KUBERNETES.glob("*.yaml") if path != KUSTOMIZATION)


def resources() -> list[dict[str, Any]]:
    found = []
    for path in resource_files():
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    return found


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in resources() if r["kind"] == kind}


def pod_specs() -> dict[str, dict[str, Any]]:
    """Every workload's pod spec, by workload name (Deployments and Jobs)."""
    return {name: r["spec"]["template"]["spec"]
            for kind in ("Deployment", "Job") for name, r in of_kind(kind).items()}


def documented_variables() -> set[str]:
    table = (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.MULTILINE))
