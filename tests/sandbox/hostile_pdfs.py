"""Hostile PDFs built byte by byte in the test: a decompression bomb, loops in the page tree and the xref chain,
and a PDF with 10,000 pages."""

from __future__ import annotations

import struct
import zlib

ZERO_CHUNK = 16 * 1024 * 1024
BOMB_GB = 4


def pdf_file(objects: dict[int, bytes], *, prev_loop: bool = False) -> bytes:
    """A PDF with the given objects (1 is the catalog) and a classic xref table; `prev_loop` makes the trailer's
    /Prev point at its own xref table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[n] if n in offsets else b"0000000000 65535 f \n"
                    for n in range(1, size))
    prev = b" /Prev %d" % xref if prev_loop else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (size, prev, xref)
    return bytes(out)


FONT = b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"


def _page(parent: int, contents: int | None = None) -> bytes:
    body = b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources %s" % (parent, FONT)
    return body + (b" /Contents %d 0 R >>" % contents if contents else b" >>")


def _stream(data: bytes, filters: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n" % (len(data), filters) + data + b"\nendstream"


def zeros_deflated(gigabytes: int) -> bytes:
    """A zlib stream that inflates to `gigabytes` GB of zeros, made without compressing them: after a full flush
    every chunk of zeros compresses to the same bytes, so they are repeated, and the checksum is worked out."""
    compressor = zlib.compressobj(9)
    first = compressor.compress(bytes(ZERO_CHUNK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(bytes(ZERO_CHUNK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    header, block = first[:2], again
    assert first[2:] == block  # the property the repetition relies on
    count = gigabytes * 1024 ** 3 // ZERO_CHUNK
    length = count * ZERO_CHUNK
    adler = ((length % 65521) << 16) | 1  # Adler-32 of zeros: a stays 1, b grows by 1 a byte
    return header + block * count + b"\x03\x00" + struct.pack(">I", adler)


def flate_bomb() -> bytes:
    """One page whose content stream, Flate inside Flate, inflates to gigabytes (a few kilobytes on disk)."""
    inner = zeros_deflated(BOMB_GB)
    outer = zlib.compress(inner, 9)
    return pdf_file({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     3: _page(2, 4), 4: _stream(outer, b" /Filter [/FlateDecode /FlateDecode]")})


def page_tree_loop() -> bytes:
    """A page tree whose node lists its own parent as a kid."""
    return pdf_file({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>",
                     3: _page(2, 4), 4: _stream(b"BT /F1 12 Tf 72 720 Td (hello) Tj ET"),
                     5: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"})


def xref_loop() -> bytes:
    """A one-page PDF whose trailer's /Prev points back at its own xref table."""
    return pdf_file({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     3: _page(2, 4), 4: _stream(b"BT /F1 12 Tf 72 720 Td (looped xref) Tj ET")}, prev_loop=True)


def many_pages(count: int = 10_000) -> bytes:
    """`count` blank pages, each an object of its own."""
    kids = b" ".join(b"%d 0 R" % (n + 3) for n in range(count))
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count)}
    objects.update({n + 3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 9 9] >>" for n in range(count)})
    return pdf_file(objects)
