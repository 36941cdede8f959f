"""The emails a drop caused, counted in the outbox against the ledger facts that cause them.

Every email is enqueued in the transaction of the change that causes it (mail/outbox.py),
so after a run each cause has exactly one outbox row, sent or not:

    order_confirmation                == the drop's orders that became paid (lottery
                                         orders excepted: their winners get lottery_won)
    order_refunded                    == the drop's refunded orders
    lottery_entry_received            == the drop's entries that were entered
    lottery_won + lottery_not_won     == the drop's settled lottery entries

Rows are counted, sent and unsent alike: the rehearsal's worker runs without SMTP_URL,
so its mail sender idles and every row stays unsent; whether a row exists is the fact
that matters. Rows are matched to the drop through their dedupe keys (`<cause>:<id>`).
Ledger and outbox are read in one REPEATABLE READ snapshot, so a settlement committing
meanwhile cannot make them disagree.
"""

from __future__ import annotations

from typing import Any

import psycopg

from core.db import libpq_url

COUNTED = "outbox rows per kind, sent and unsent"

# Each check: its name, the kinds whose rows it sums, and the ledger fact it must equal.
CHECKS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("order_confirmation", ("order_confirmation",), "paid_orders"),
    ("order_refunded", ("order_refunded",), "refunded_orders"),
    ("lottery_entry_received", ("lottery_entry_received",), "lottery_entries_entered"),
    ("lottery_result", ("lottery_won", "lottery_not_won"), "lottery_entries_settled"),
)

_ROWS = """
WITH causes AS (
    SELECT 'order_confirmation:' || o.id AS key FROM orders o WHERE o.drop_id = %(drop)s
    UNION ALL SELECT 'order_refunded:' || o.id FROM orders o WHERE o.drop_id = %(drop)s
    UNION ALL SELECT 'lottery_entry_received:' || e.id FROM lottery_entries e
        WHERE e.drop_id = %(drop)s
    UNION ALL SELECT 'lottery_result:' || e.id FROM lottery_entries e WHERE e.drop_id = %(drop)s
)
SELECT m.kind, count(*), count(m.sent_at) FROM outbox m JOIN causes c ON c.key = m.dedupe_key
GROUP BY m.kind
"""

_FACTS = """
SELECT
  (SELECT count(*) FROM orders o WHERE o.drop_id = %(drop)s AND o.paid_at IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM lottery_entries e WHERE e.order_id = o.id)),
  (SELECT count(*) FROM orders o WHERE o.drop_id = %(drop)s AND o.state = 'refunded'),
  (SELECT count(*) FROM lottery_entries e WHERE e.drop_id = %(drop)s
     AND e.status IN ('entered', 'won', 'lost')),
  (SELECT count(*) FROM lottery_entries e WHERE e.drop_id = %(drop)s AND e.settlement = 'done')
"""


def read_outbox(database_url: str, *, drop_id: int) -> tuple[dict[str, dict[str, int]],
                                                             dict[str, int]]:
    """(kind -> {rows, sent, unsent}, ledger facts), from one snapshot."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            rows = conn.execute(_ROWS, {"drop": drop_id}).fetchall()
            facts = conn.execute(_FACTS, {"drop": drop_id}).fetchone()
    kinds = {str(kind): {"rows": int(total), "sent": int(sent), "unsent": int(total) - int(sent)}
             for kind, total, sent in rows}
    names = ("paid_orders", "refunded_orders", "lottery_entries_entered",
             "lottery_entries_settled")
    return kinds, {name: int(value) for name, value in zip(names, facts or (0,) * 4, strict=True)}


def check(kinds: dict[str, dict[str, int]], facts: dict[str, int], *,
          smtp_configured: bool) -> dict[str, Any]:
    """Each cause's rows against its ledger fact; ok only when every one agrees."""
    results = []
    for name, summed, fact in CHECKS:
        rows = sum(kinds.get(kind, {}).get("rows", 0) for kind in summed)
        results.append({"email": name, "kinds": list(summed), "rows": rows,
                        "expected": facts.get(fact, 0), "fact": fact,
                        "ok": rows == facts.get(fact, 0)})
    return {
        "counted": COUNTED,
        "smtp_configured": smtp_configured,
        "kinds": dict(sorted(kinds.items())),
        "sent": sum(k["sent"] for k in kinds.values()),
        "unsent": sum(k["unsent"] for k in kinds.values()),
        "checks": results,
        "mismatches": [r["email"] for r in results if not r["ok"]],
        "ok": all(r["ok"] for r in results),
    }


def emails_of_drop(database_url: str, *, drop_id: int, smtp_configured: bool) -> dict[str, Any]:
    kinds, facts = read_outbox(database_url, drop_id=drop_id)
    return check(kinds, facts, smtp_configured=smtp_configured)
