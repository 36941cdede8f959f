"""Holds, checkout, orders, sales and cancellation (gateway/purchase_serialize.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from gateway.schemas.base import Id, ResponseBody, Uuid


class HoldLine(ResponseBody):
    tier_id: Id
    name: str
    quantity: int
    unit_price_cents: int


class Hold(ResponseBody):
    hold_id: Uuid
    drop_id: Id
    expires_at: datetime
    items: list[HoldLine]
    total_cents: int
    currency: str


class CheckoutResult(ResponseBody):
    order_id: Uuid
    status: str  # the order's state, or the payment intent's while it waits (requires_action...)
    client_secret: str | None
    reason: str | None


class OrderTicket(ResponseBody):
    id: Uuid
    tier_id: Id
    status: Literal["valid", "refunded", "cancelled"]


class OrderPayment(ResponseBody):
    status: str
    refunded_cents: int


class Order(ResponseBody):
    id: Uuid
    state: str
    reason: str | None
    drop_id: Id
    event_id: Id
    hold_id: Uuid | None
    items: list[HoldLine]
    total_cents: int
    currency: str
    created_at: datetime
    paid_at: datetime | None
    tickets: list[OrderTicket]
    payment: OrderPayment | None = None  # absent until a payment exists


class OrderList(ResponseBody):
    orders: list[Order]


class EventOrderPage(ResponseBody):
    orders: list[Order]
    total: int  # all the event's orders, of every state
    limit: int
    offset: int


class OrderRefund(Order):
    refunded_now: bool  # False: an earlier call had already refunded it; nothing changed


class TierSales(ResponseBody):
    tier_id: Id
    name: str
    capacity: int
    sold: int
    held: int
    remaining: int
    price_cents: int
    currency: str


class Revenue(ResponseBody):
    currency: str
    paid_orders: int
    revenue_cents: int
    refunded_orders: int
    refunded_cents: int


class EventSales(ResponseBody):
    event_id: Id
    status: Literal["draft", "published", "cancelled"]
    drop_ids: list[Id]
    tiers: list[TierSales]
    revenue: list[Revenue]


class CancellationProgress(ResponseBody):
    event_id: Id
    status: Literal["refunding", "done"]
    requested_at: datetime
    finished_at: datetime | None
    paid_orders_left: int
    refunded_orders: int
    refunds_pending: int


class WebhookReceipt(ResponseBody):
    received: bool
    outcome: Literal["handled", "duplicate", "ignored"]
