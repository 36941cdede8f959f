"""Reading a tickets PDF back as a person and a door would: its pages' text (pypdf) and
the QR codes in its images, decoded by zxing-cpp (neither is TicketQ code); and taking
the PDF out of a mail that the dev SMTP server (mail.dev_smtp) kept."""

from __future__ import annotations

import io
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import zxingcpp
from pypdf import PdfReader


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def page_qr_payloads(pdf: bytes) -> list[list[str]]:
    """Per page, the text of every QR code found in its embedded images."""
    found = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        texts = []
        for image in page.images:
            for barcode in zxingcpp.read_barcodes(image.image.convert("L")):
                assert barcode.format == zxingcpp.BarcodeFormat.QRCode
                texts.append(barcode.text)
        found.append(texts)
    return found


def attached_pdf(mailbox: Path, message_id: str) -> bytes:
    """The one PDF attached to the kept message `message_id` (mailbox: the server's folder)."""
    for path in (mailbox / "messages").glob("*.eml"):
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        if parsed["Message-ID"] == message_id:
            [part] = list(parsed.iter_attachments())
            assert part.get_content_type() == "application/pdf"
            content: bytes = part.get_content()
            return content
    raise AssertionError(f"no message {message_id}")
