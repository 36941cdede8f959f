"""JSON shapes of holds, orders and cancellation progress."""

from __future__ import annotations

from typing import Any

from gateway.serialize import iso
from purchase.cancellation import CancellationProgress
from purchase.checkout import CheckoutResult
from purchase.holds import HoldReceipt
from purchase.orders import OrderView


def hold_json(receipt: HoldReceipt) -> dict[str, Any]:
    return {
        "hold_id": receipt.hold_id, "drop_id": receipt.drop_id,
        "expires_at": iso(receipt.expires_at),
        "items": [line.as_json() for line in receipt.items],
        "total_cents": receipt.total_cents, "currency": receipt.currency,
    }


def checkout_json(result: CheckoutResult) -> dict[str, Any]:
    return {"order_id": result.order_id, "status": result.status,
            "client_secret": result.client_secret, "reason": result.reason}


def order_json(view: OrderView) -> dict[str, Any]:
    order = view.order
    body: dict[str, Any] = {
        "id": order.id, "state": order.state, "reason": order.reason, "drop_id": order.drop_id,
        "event_id": order.event_id, "hold_id": order.hold_id, "items": order.items,
        "total_cents": order.total_cents, "currency": order.currency,
        "created_at": iso(order.created_at), "paid_at": iso(order.paid_at),
        "tickets": [{"id": t.id, "tier_id": t.tier_id, "status": t.status} for t in view.tickets],
    }
    if view.payment is not None:
        body["payment"] = {"status": view.payment.status,
                           "refunded_cents": view.payment.refunded_cents}
    return body


def progress_json(state: CancellationProgress) -> dict[str, Any]:
    return {
        "event_id": state.event_id, "status": "done" if state.done else "refunding",
        "requested_at": iso(state.requested_at), "finished_at": iso(state.finished_at),
        "paid_orders_left": state.paid_orders_left, "refunded_orders": state.refunded_orders,
        "refunds_pending": state.refunds_pending,
    }
