"""The metric names the code exports, and the ones a PromQL expression reads.

Names come from the collectors registered once the gateway is imported (the same
registry `GET /metrics` serialises), expanded the way the text format exposes them:
a counter `x` as `x_total`, a histogram as `x_bucket`, `x_count` and `x_sum`.
"""

from __future__ import annotations

import re

from prometheus_client import REGISTRY

import gateway.app  # registers every collector of the gateway; all_routes() below
import ticketq.worker  # noqa: F401 (registers the worker's job metrics)

SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}
# Only our own names and the process/Python ones prometheus_client exports; everything
# else an expression holds (functions, `by`, label names, `$drop`) starts differently.
METRIC = re.compile(r"(?<![\w:$\"])((?:ticketq|process|python)_[a-zA-Z0-9_:]*)")
# `name{...}`, where quoted label values may hold braces: route="/api/drops/{drop_id}".
SELECTOR = re.compile(
    r'((?:ticketq|process|python)_[a-zA-Z0-9_:]*)\{((?:"(?:[^"\\]|\\.)*"|[^}"])*)\}')
LABEL = re.compile(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*\"")


def exported() -> dict[str, set[str]]:
    """Every exposed series name, with the label names it carries."""
    names: dict[str, set[str]] = {}
    for family in REGISTRY.collect():
        # A labelled metric with no child yet has no samples: its collector knows the names.
        collector = REGISTRY._names_to_collectors.get(family.name)
        labels = set(getattr(collector, "_labelnames", ()))
        for suffix in SUFFIXES.get(family.type, ("",)):
            names[family.name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return names


def metric_names(expression: str) -> set[str]:
    return set(METRIC.findall(expression))


def selector_labels(expression: str) -> list[tuple[str, set[str]]]:
    """(metric, label names matched in its braces) for every `name{...}` selector."""
    return [(name, set(LABEL.findall(body))) for name, body in SELECTOR.findall(expression)]


def unknown_names(expression: str) -> list[str]:
    """What in `expression` the code does not export: names, then `metric{label}` pairs."""
    known = exported()
    problems = sorted(name for name in metric_names(expression) if name not in known)
    for name, labels in selector_labels(expression):
        problems += [f"{name}{{{label}}}" for label in sorted(labels - known.get(name, labels))]
    return problems


ROUTE_MATCHER = re.compile(r'route\s*(=~|=|!=|!~)\s*"((?:[^"\\]|\\.)*)"')


def route_templates() -> set[str]:
    """The route labels RequestMetrics gives: the templates without convertors."""
    from starlette.routing import Route, WebSocketRoute

    return {route.path_format for route in gateway.app.all_routes()
            if isinstance(route, Route | WebSocketRoute)}


def unknown_routes(expression: str) -> list[str]:
    """Route label values in `expression` that no route of the gateway has."""
    values = [value for _, pattern in ROUTE_MATCHER.findall(expression)
              for value in pattern.split("|")]
    return sorted(set(values) - route_templates())
