"""Shared by the document tests: real PDFs built in memory, and the limits they run under."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from sandbox.documents.reading import DocumentLimits

EMBEDDER = "fake-embed"
HANDBOOK = b"""# Travel

Book trains through the travel desk. Flights need a manager's approval.

## Expenses

Claim meals up to 40 euros a day within 30 days of the trip.
"""


def embedding_requests(fake_gateway) -> list:
    """The requests the fake gateway received for embeddings."""
    return [r for r in fake_gateway.requests if r.path.endswith("/embeddings")]


LIMITS = DocumentLimits(max_mb=1.0, allowed_types=("pdf", "md", "txt"), max_pages=5, max_chunks=50,
                        chunk_chars=200, chunk_overlap=20)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(*pages: str, password: str | None = None) -> bytes:
    """A PDF whose pages hold the given lines of text (Helvetica), optionally encrypted with a password."""
    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    for text in pages:
        page = writer.add_blank_page(width=612, height=792)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): writer._add_object(font)})})
        lines = "".join(f"({_escaped(line)}) Tj 0 -16 Td " for line in text.splitlines())
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 72 720 Td {lines}ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    if password is not None:
        writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
