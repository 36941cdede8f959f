"""Reading a tickets PDF back as a person and a door would: its pages' text (pypdf) and
the QR codes in its images, decoded by zxing-cpp (neither is TicketQ code)."""

from __future__ import annotations

import io

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
