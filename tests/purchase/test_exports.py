"""The venue's downloads over HTTP (gateway/purchase_exports.py): orders.csv, attendees.csv
and the audit log, against a real sale (localstripe payments, the door's own scan)."""

from __future__ import annotations

import csv
import io
import json

import httpx

from tests.purchase.conftest import Fan, Shop
from tests.scanner.factory import add_scanner, live_payload, scan_body


async def _paid(shop: Shop, fan: Fan, **quantities: int) -> dict:
    hold = await shop.hold(fan, **quantities)
    assert hold.status_code == 201, hold.text
    paid = await shop.pay(fan, hold.json()["hold_id"])
    assert paid.json()["status"] == "paid", paid.text
    order = await shop.api.get(f"/api/orders/{paid.json()['order_id']}",
                               headers=fan.account.headers)
    return dict(order.json())


def _table(answer: httpx.Response) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


async def test_orders_csv_has_one_row_per_order_with_its_times(shop: Shop) -> None:
    fan = await shop.fan()
    first = await _paid(shop, fan, GA=2, VIP=1)
    refunded = await _paid(shop, await shop.fan(), GA=1)
    answer = await shop.api.post(f"/api/orders/{refunded['id']}/refund",
                                 headers=shop.setup.admin.headers, json={"reason": "asked"})
    assert answer.status_code == 200, answer.text

    url = f"/api/events/{shop.setup.event_id}/orders.csv"
    got = await shop.api.get(url, headers=shop.setup.admin.headers)
    rows = {row["order_id"]: row for row in _table(got)}
    assert f'filename="event-{shop.setup.event_id}-orders.csv"' in got.headers[
        "content-disposition"]
    assert set(rows) == {first["id"], refunded["id"]}
    row = rows[first["id"]]
    assert row["fan_email"] == fan.account.email and row["status"] == "paid"
    assert row["items"] == "GA x2; VIP x1" and row["tickets"] == "3"
    assert (row["amount_minor"], row["currency"]) == ("25000", "EUR")
    assert row["paid_at"] and not row["refunded_at"]
    assert rows[refunded["id"]]["status"] == "refunded" and rows[refunded["id"]]["refunded_at"]


async def test_attendees_csv_lists_tickets_and_check_ins(shop: Shop) -> None:
    fan = await shop.fan()
    order = await _paid(shop, fan, GA=2)
    scanned_id = order["tickets"][0]["id"]
    scanner = await add_scanner(shop.api, shop.setup)
    code = await live_payload(shop.api, fan.account, scanned_id)
    scanned = await shop.api.post("/api/scan", headers=scanner.headers,
                                  json=scan_body(code, gate="East"))
    assert scanned.json()["result"] == "valid", scanned.text

    rows = _table(await shop.api.get(f"/api/events/{shop.setup.event_id}/attendees.csv",
                                     headers=shop.setup.admin.headers))
    assert sorted(row["ticket_id"] for row in rows) == sorted(t["id"] for t in order["tickets"])
    by_id = {row["ticket_id"]: row for row in rows}
    assert by_id[scanned_id]["checked_in_at"] and by_id[scanned_id]["gate"] == "East"
    other = next(row for tid, row in by_id.items() if tid != scanned_id)
    assert other["checked_in_at"] == "" and other["tier"] == "GA" and other["status"] == "valid"
    assert other["holder_email"] == fan.account.email


async def test_a_name_that_is_a_formula_is_written_as_text(shop: Shop) -> None:
    fan = await shop.fan()
    renamed = await shop.api.patch("/api/me", headers=fan.account.headers,
                                   json={"name": '=HYPERLINK("http://evil","x")'})
    assert renamed.status_code == 200, renamed.text
    await _paid(shop, fan, GA=1)
    rows = _table(await shop.api.get(f"/api/events/{shop.setup.event_id}/attendees.csv",
                                     headers=shop.setup.admin.headers))
    assert rows[0]["holder_name"] == '\'=HYPERLINK("http://evil","x")'


async def test_audit_log_pages_newest_first_and_downloads(shop: Shop) -> None:
    admin = shop.setup.admin.headers
    drop = f"/api/drops/{shop.drop_id}"
    for action in ("pause", "resume", "pause"):
        changed = await shop.api.post(f"{drop}/{action}", headers=admin)
        assert changed.status_code == 200, changed.text
    url = f"/api/events/{shop.setup.event_id}/audit"
    first = await shop.api.get(url, params={"limit": 2}, headers=admin)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [entry["action"] for entry in page["entries"]] == ["drop.pause", "drop.resume"]
    assert page["entries"][0]["actor_email"] == shop.setup.admin.email
    assert page["entries"][0]["subject_id"] == str(shop.drop_id)
    later = await shop.api.get(url, params={"limit": 2, "cursor": page["next_cursor"]},
                               headers=admin)
    assert later.json()["entries"][0]["action"] == "drop.pause"
    everything = await shop.api.get(url, params={"limit": 200}, headers=admin)
    actions = [entry["action"] for entry in everything.json()["entries"]]
    assert "drop.create" in actions and everything.json()["next_cursor"] is None

    rows = _table(await shop.api.get(url, params={"format": "csv"}, headers=admin))
    assert [row["action"] for row in rows] == actions
    assert json.loads(rows[0]["details"])["to"] == "paused"


async def test_others_and_bad_input_are_refused(shop: Shop) -> None:
    fan = await shop.fan()
    event = shop.setup.event_id
    for path in ("orders.csv", "attendees.csv", "audit", "audit?format=csv"):
        assert (await shop.api.get(f"/api/events/{event}/{path}")).status_code == 401
        refused = await shop.api.get(f"/api/events/{event}/{path}", headers=fan.account.headers)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        missing = await shop.api.get(f"/api/events/999999999/{path}",
                                     headers=shop.setup.admin.headers)
        assert missing.status_code == 404, (path, missing.text)
    for params in ({"limit": "0"}, {"limit": "201"}, {"limit": "x"}, {"cursor": "-1"},
                   {"cursor": "abc"}, {"cursor": "99999999999999999999999"},
                   {"format": "xlsx"}):
        bad = await shop.api.get(f"/api/events/{event}/audit", params=params,
                                 headers=shop.setup.admin.headers)
        assert bad.status_code == 422, (params, bad.text)
        assert bad.headers["content-type"] == "application/problem+json"


async def test_every_operator_action_is_in_the_audit_log(shop: Shop) -> None:
    admin, event, drop = shop.setup.admin.headers, shop.setup.event_id, shop.drop_id
    refunded = await _paid(shop, await shop.fan(), GA=1)
    staff = f"/api/venues/{shop.setup.venue_id}/staff"
    scanner = await add_scanner(shop.api, shop.setup)  # an invitation, accepted
    calls = [
        ("POST", f"/api/drops/{drop}/pause", None),
        ("POST", f"/api/drops/{drop}/resume", None),
        ("PATCH", f"/api/drops/{drop}", {"admit_per_minute": 77}),
        ("PUT", f"/api/events/{event}/door-codes", {"static_codes_allowed": False}),
        ("POST", f"/api/events/{event}/scanner-keys/rotate", {}),
        ("POST", f"/api/orders/{refunded['id']}/refund", {"reason": "asked"}),
        ("DELETE", f"{staff}/{scanner.id}", None),
        ("POST", f"/api/events/{event}/cancel", {"reason": "storm"}),
    ]
    for method, url, body in calls:
        answer = await shop.api.request(method, url, headers=admin, json=body)
        assert answer.status_code < 300, (url, answer.text)
    page = await shop.api.get(f"/api/events/{event}/audit", params={"limit": 200},
                              headers=admin)
    actions = {entry["action"] for entry in page.json()["entries"]}
    assert {"drop.create", "drop.pause", "drop.resume", "drop.pacing", "event.door_codes",
            "event.key_rotate", "order.refund", "venue.staff.invite", "venue.staff.accept",
            "venue.staff.remove", "event.cancel"} <= actions, actions
