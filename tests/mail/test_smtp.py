"""SMTP_URL and TICKETQ_MAIL_FROM: parsed as documented, refused clearly, secrets kept out."""

from __future__ import annotations

import pytest

from core.settings import Settings, SettingsError
from mail.smtp import SmtpTarget, message_id, parse_smtp_url


def test_smtp_urls_parse_with_defaults_and_credentials() -> None:
    assert parse_smtp_url("smtp://mail.test") == SmtpTarget("mail.test", 25, False, None, None)
    assert parse_smtp_url("smtps://u%40x:p%3Aw@mail.test:4650") == SmtpTarget(
        "mail.test", 4650, True, "u@x", "p:w")


@pytest.mark.parametrize("variable, value", [
    ("SMTP_URL", "http://u:hunter2@mail.test"), ("TICKETQ_MAIL_FROM", "nobody"),
    ("TICKETQ_MAIL_FROM", "a@b@c"), ("TICKETQ_MAIL_CLAIM_SECONDS", "1"),
])
def test_bad_mail_settings_refuse_to_start(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({variable: value})
    [problem] = error.value.problems
    assert problem.startswith(variable)
    assert "hunter2" not in problem


def test_message_id_names_the_outbox_row_and_the_sender_domain() -> None:
    assert message_id("abc", "TicketQ <t@tickets.example>") == "<outbox.abc@tickets.example>"
