"""Each kind of email, built from plain values (no database, no models): what the causes call.

A `Message` is what the outbox stores. Bodies are rendered here, at enqueue time, from
the templates in mail/templates (`<kind>.txt` and `<kind>.html`), so what a fan gets is
what the change that caused it knew, even if the event is renamed before the worker runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mail.attachments import tickets_pdf

TEMPLATES = Path(__file__).parent / "templates"
KINDS = ("order_confirmation", "order_refunded", "lottery_entry_received", "lottery_won",
         "lottery_not_won", "verify_email", "staff_invitation", "password_reset",
         "email_change_verify", "email_change_notice")
STAFF_ROLE_NAMES = {"venue_admin": "a venue admin", "scanner": "a door scanner"}

# Autoescape in the HTML bodies only; StrictUndefined makes a missing value an error at
# enqueue (inside the cause's transaction), not a blank in a fan's inbox.
_templates = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                         autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


@dataclass(frozen=True)
class Message:
    kind: str
    # The cause, e.g. "order_confirmation:<order id>": the outbox keeps one row per key.
    dedupe_key: str
    to_address: str
    subject: str
    text_body: str
    html_body: str | None
    attachments: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class EventFacts:
    """What a fan needs to recognise the event: its title, venue and local start time."""

    title: str
    venue_name: str
    starts_at: datetime
    timezone: str

    @property
    def starts_local(self) -> str:
        local = self.starts_at.astimezone(ZoneInfo(self.timezone))
        return local.strftime("%A %d %B %Y, %H:%M ") + (local.tzname() or self.timezone)


def money(amount_cents: int, currency: str) -> str:
    """`4500, "EUR"` -> `EUR 45.00` (every currency TicketQ sells in has two decimals)."""
    return f"{currency.upper()} {amount_cents // 100}.{amount_cents % 100:02d}"


def render(kind: str, *, dedupe_key: str, to_address: str, subject: str,
           attachments: list[dict[str, str]] | None = None, **values: Any) -> Message:
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    context = {"subject": subject, **values}
    return Message(kind=kind, dedupe_key=dedupe_key, to_address=to_address, subject=subject,
                   text_body=_templates.get_template(f"{kind}.txt").render(context),
                   html_body=_templates.get_template(f"{kind}.html").render(context),
                   attachments=list(attachments or []))


def order_confirmation(*, order_id: str, to_address: str, fan_name: str, event: EventFacts,
                       amount_cents: int, currency: str, ticket_count: int) -> Message:
    return render("order_confirmation", dedupe_key=f"order_confirmation:{order_id}",
                  to_address=to_address, subject=f"Your tickets for {event.title}",
                  attachments=[tickets_pdf(order_id)],
                  order_id=order_id, fan_name=fan_name, event=event,
                  amount=money(amount_cents, currency), ticket_count=ticket_count)


def order_refunded(*, order_id: str, to_address: str, fan_name: str, event: EventFacts,
                   amount_cents: int, currency: str, reason: str) -> Message:
    return render("order_refunded", dedupe_key=f"order_refunded:{order_id}",
                  to_address=to_address, subject=f"Refund for your order for {event.title}",
                  order_id=order_id, fan_name=fan_name, event=event,
                  amount=money(amount_cents, currency), reason=reason)


def lottery_entry_received(*, entry_id: str, to_address: str, fan_name: str, event: EventFacts,
                           amount_cents: int, currency: str, quantity: int) -> Message:
    return render("lottery_entry_received", dedupe_key=f"lottery_entry_received:{entry_id}",
                  to_address=to_address, subject=f"Your lottery entry for {event.title}",
                  entry_id=entry_id, fan_name=fan_name, event=event,
                  amount=money(amount_cents, currency), quantity=quantity)


def lottery_result(*, entry_id: str, won: bool, to_address: str, fan_name: str,
                   event: EventFacts, amount_cents: int, currency: str, note: str,
                   order_id: str | None = None) -> Message:
    """won: tickets issued and paid (in `order_id`, whose tickets PDF goes with the mail);
    otherwise the note says what happened to the money."""
    kind = "lottery_won" if won else "lottery_not_won"
    subject = (f"You won the lottery for {event.title}" if won
               else f"Your lottery result for {event.title}")
    # One result per entry, whichever it is: the key does not name the kind.
    attachments = [tickets_pdf(order_id)] if won and order_id else []
    return render(kind, dedupe_key=f"lottery_result:{entry_id}", to_address=to_address,
                  subject=subject, attachments=attachments, entry_id=entry_id,
                  fan_name=fan_name, event=event, amount=money(amount_cents, currency),
                  note=note)


def verify_email(*, user_id: int, to_address: str, fan_name: str, verify_url: str) -> Message:
    return render("verify_email", dedupe_key=f"verify_email:{user_id}:{verify_url}",
                  to_address=to_address, subject="Confirm your email address for TicketQ",
                  fan_name=fan_name, verify_url=verify_url)


def password_reset(*, user_id: int, to_address: str, fan_name: str, reset_url: str,
                   ttl_minutes: int) -> Message:
    # Keyed by a digest of the link: each request is its own mail, and the key (which
    # sits in an indexed column) holds no usable token.
    link_digest = hashlib.sha256(reset_url.encode()).hexdigest()[:32]
    return render("password_reset", dedupe_key=f"password_reset:{user_id}:{link_digest}",
                  to_address=to_address, subject="Reset your TicketQ password",
                  fan_name=fan_name, reset_url=reset_url, ttl_minutes=ttl_minutes)


def email_change_verify(*, user_id: int, to_address: str, fan_name: str,
                        confirm_url: str) -> Message:
    """To the NEW address: the link that makes it the account's email."""
    link_digest = hashlib.sha256(confirm_url.encode()).hexdigest()[:32]
    return render("email_change_verify",
                  dedupe_key=f"email_change_verify:{user_id}:{link_digest}",
                  to_address=to_address, subject="Confirm your new email address for TicketQ",
                  fan_name=fan_name, confirm_url=confirm_url)


def email_change_notice(*, user_id: int, to_address: str, fan_name: str, new_address: str,
                        confirm_url: str) -> Message:
    """To the OLD address: someone asked to move the account elsewhere (no link in it).

    Keyed by the new address's link, so each request notifies once."""
    link_digest = hashlib.sha256(confirm_url.encode()).hexdigest()[:32]
    return render("email_change_notice",
                  dedupe_key=f"email_change_notice:{user_id}:{link_digest}",
                  to_address=to_address, subject="Your TicketQ email address is being changed",
                  fan_name=fan_name, new_address=new_address)


def staff_invitation(*, invitation_id: int, to_address: str, inviter_name: str,
                     venue_name: str, venue_city: str, role: str, accept_url: str,
                     expires_at: datetime) -> Message:
    # The link's digest as well as the id: an id can come round again (a restored or
    # re-created table) and must never make a new invitation's mail look sent already.
    link = hashlib.sha256(accept_url.encode()).hexdigest()[:16]
    return render("staff_invitation", dedupe_key=f"staff_invitation:{invitation_id}:{link}",
                  to_address=to_address, subject=f"Join {venue_name} on TicketQ",
                  fan_name="there", inviter_name=inviter_name, venue_name=venue_name,
                  venue_city=venue_city, role_name=STAFF_ROLE_NAMES[role],
                  accept_url=accept_url, expires_on=expires_at.strftime("%d %B %Y, %H:%M UTC"))
