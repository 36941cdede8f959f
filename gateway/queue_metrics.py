"""Prometheus metrics of the waiting room, per drop, as this gateway process sees them."""

from __future__ import annotations

from prometheus_client import Gauge, Histogram

QUEUE_LENGTH = Gauge("ticketq_queue_length", "Fans waiting in the line", ["drop"])
PREQUEUE_SIZE = Gauge("ticketq_queue_prequeue_size", "Fans in the pre-queue", ["drop"])
ADMITTED_PER_MINUTE = Gauge(
    "ticketq_queue_admitted_per_minute", "Admissions observed over the last minute", ["drop"]
)
# The drop's configured pace, beside the observed rate, so a dashboard or an alert can
# tell admission falling behind from a drop that was set to admit slowly.
ADMIT_PER_MINUTE_TARGET = Gauge(
    "ticketq_queue_admit_per_minute_target", "Configured admissions per minute", ["drop"]
)
ACTIVE_PASSES = Gauge("ticketq_queue_active_passes", "Live admission passes", ["drop"])
WEBSOCKETS = Gauge(
    "ticketq_queue_websockets", "Open waiting-room WebSockets on this process", ["drop"]
)
JOIN_SECONDS = Histogram(
    "ticketq_queue_join_seconds", "Latency of POST /api/drops/{id}/queue", ["drop"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)


BROADCAST_SECONDS = Histogram(
    "ticketq_queue_broadcast_seconds", "One broadcaster tick of one drop (read + sends)",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

PER_DROP = (QUEUE_LENGTH, PREQUEUE_SIZE, ADMITTED_PER_MINUTE, ADMIT_PER_MINUTE_TARGET,
            ACTIVE_PASSES, WEBSOCKETS)


def forget_drop(drop_id: int) -> None:
    """Stop exporting a drop this process no longer follows."""
    for gauge in PER_DROP:
        try:
            gauge.remove(str(drop_id))
        except KeyError:
            pass
