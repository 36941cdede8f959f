"""A paid order in the real purchase flow (gateway + localstripe) enqueues one confirmation."""

from __future__ import annotations

from sqlalchemy import select

from mail.models import OutboxMessage
from tests.purchase.conftest import (  # noqa: F401 (fixtures)
    Shop,
    api,
    clock,
    ctx,
    purchase_app,
    purchase_settings,
    shop,
)


async def test_a_paid_order_enqueues_one_order_confirmation(shop: Shop) -> None:  # noqa: F811
    fan = await shop.fan("mailfan")
    held = await shop.hold(fan, GA=2)
    paid = await shop.pay(fan, held.json()["hold_id"])
    order_id = paid.json()["order_id"]
    assert paid.json()["status"] == "paid", paid.text
    # Settling again (the webhook, the poll) must not enqueue a second one.
    again = await shop.api.get(f"/api/orders/{order_id}", headers=fan.account.headers)
    assert again.status_code == 200
    async with shop.ctx.sessionmaker() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"order_confirmation:{order_id}")))
    [row] = rows
    assert row.kind == "order_confirmation" and row.sent_at is None
    assert row.to_address == fan.account.email
    assert "EUR 100.00" in row.text_body and order_id in row.text_body
    assert row.html_body is not None and "<html" in row.html_body


def test_a_staff_invitation_names_the_venue_and_role_and_escapes_the_html() -> None:
    from datetime import UTC, datetime

    from mail import messages

    message = messages.staff_invitation(
        invitation_id=7, to_address="door@example.test", inviter_name="Vera <b>",
        venue_name="Hall & <Co>", venue_city="Lyon", role="scanner",
        accept_url="https://t.test/venue#invitation=7&token=abc",
        expires_at=datetime(2030, 1, 8, 12, tzinfo=UTC))
    assert message.kind == "staff_invitation"
    assert message.dedupe_key.startswith("staff_invitation:7:")
    again = messages.staff_invitation(
        invitation_id=7, to_address="door@example.test", inviter_name="Vera",
        venue_name="Hall", venue_city="Lyon", role="scanner",
        accept_url="https://t.test/venue#invitation=7&token=another",
        expires_at=datetime(2030, 1, 8, 12, tzinfo=UTC))
    assert again.dedupe_key != message.dedupe_key  # a reused id is a new invitation
    assert "to be a door scanner at Hall & <Co> (Lyon)" in message.text_body
    assert "https://t.test/venue#invitation=7&token=abc" in message.text_body
    assert "08 January 2030" in message.text_body
    assert message.html_body is not None
    assert "Hall &amp; &lt;Co&gt;" in message.html_body and "<b>" not in message.html_body


def test_an_email_change_link_goes_to_the_new_address_and_the_notice_holds_no_link() -> None:
    from mail import messages

    url = "https://t.test/confirm-email#token=abc"
    link = messages.email_change_verify(user_id=7, to_address="new@example.test",
                                        fan_name="Ada", confirm_url=url)
    notice = messages.email_change_notice(user_id=7, to_address="old@example.test",
                                          fan_name="Ada", new_address="new<b>@example.test",
                                          confirm_url=url)
    assert (link.kind, notice.kind) == ("email_change_verify", "email_change_notice")
    assert url in link.text_body and link.html_body is not None and url in link.html_body
    assert "token" not in notice.text_body and "token" not in notice.dedupe_key
    assert notice.html_body is not None and "new&lt;b&gt;@example.test" in notice.html_body
    # Each request its own pair of mails (keyed by the link's digest, never the token).
    again = messages.email_change_verify(user_id=7, to_address="new@example.test",
                                         fan_name="Ada", confirm_url=url + "x")
    assert again.dedupe_key != link.dedupe_key and "abc" not in link.dedupe_key
