"""A PDF's text, page by page, read in a confined child process (sandbox.documents.pdf_server).

Uploads are untrusted: a PDF can inflate a small stream to gigabytes or send the parser round a loop. So pypdf runs
only in a child of the PDF server, with a wall-clock and a memory limit (portal.core.child_jobs), and the page and
text limits are checked inside it while it reads: a file over a limit stops being read as soon as it passes it.
"""

from __future__ import annotations

import io
import logging

from portal.core.child_jobs import ChildLimits, JobServer, run_in_child
from portal.core.errors import InvalidInput

log = logging.getLogger(__name__)
logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged PDF is reported to the user, not the log


class PdfRefused(InvalidInput):
    """The PDF cannot be taken; the message says why (it is shown with the file's name in front)."""


def read_pages(file_name: str, data: bytes, *, max_pages: int, max_chars: int, timeout_s: float,
               memory_mb: int) -> list[tuple[int, str]]:
    """(page number, text) of each page, read in a child process; PdfRefused naming the limit it passed."""
    limits = ChildLimits(timeout_s=timeout_s, memory_mb=memory_mb, max_file_bytes=0, scratch_prefix="portal-pdf-")
    outcome = run_in_child(_server, pages_here, file_name, data, max_pages, max_chars, limits=limits)
    kind = outcome[0]
    if kind == "ok":
        return outcome[1]
    if kind == "refused":
        raise PdfRefused(outcome[1].message) from None
    if kind == "timeout":
        raise PdfRefused(f"“{file_name}” took longer than {timeout_s:g} s to read, so reading it was stopped "
                         "(PORTAL_DOCUMENTS_PARSE_TIMEOUT_S). Save it again from its application, or upload its "
                         "text.")
    if kind in ("memory", "died"):
        if kind == "died":
            log.warning("a PDF reading process ended without an answer (most likely its memory limit)")
        raise PdfRefused(f"“{file_name}” needed more than {memory_mb} MB of memory to read, so reading it was "
                         "stopped (PORTAL_DOCUMENTS_PARSE_MEMORY_MB). Upload a shorter extract or its text.")
    log.error("reading a PDF failed in its child process:\n%s", outcome[-1])
    raise PdfRefused(f"“{file_name}” could not be read as a PDF. It may be damaged or not really a PDF: open it "
                     "and save it again, or upload its text.")


def pages_here(file_name: str, data: bytes, max_pages: int, max_chars: int) -> list[tuple[int, str]]:
    """The reading itself; runs in the child process."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(data))
        # An owner password alone (printing or copying locked) opens with an empty user password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfRefused(f"“{file_name}” is password-protected. Save a copy without the password and upload "
                             "that.")
        count = len(reader.pages)
        if count > max_pages:
            raise PdfRefused(f"“{file_name}” has {count:,} pages; at most {max_pages:,} fit. Upload the part you "
                             "need (the limit is PORTAL_DOCUMENTS_MAX_PAGES).")
        return _texts(file_name, reader, max_chars)
    except (PdfRefused, MemoryError):
        raise
    except LimitReachedError:  # pypdf's own cap on what one stream may inflate to
        raise PdfRefused(f"“{file_name}” holds a compressed stream that inflates past the reader's safety limit "
                         "(a decompression bomb), so reading it was stopped. Upload its text instead.") from None
    except Exception as error:  # pypdf raises many kinds of errors on a damaged file; all mean the same here
        raise PdfRefused(f"“{file_name}” could not be read as a PDF ({type(error).__name__}). It may be damaged "
                         "or not really a PDF: open it and save it again, or upload its text.") from None


def _texts(file_name: str, reader, max_chars: int) -> list[tuple[int, str]]:
    pages, total = [], 0
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text() or ""
        total += len(text)
        if total > max_chars:  # stop here: the rest would be read only to be refused
            raise PdfRefused(f"“{file_name}” holds more than {max_chars:,} characters of text, more than its "
                             "passages may hold (PORTAL_DOCUMENTS_MAX_CHUNKS × PORTAL_DOCUMENTS_CHUNK_CHARS). "
                             "Upload the part you need.")
        pages.append((number, text))
    return pages


_server = JobServer("sandbox.documents.pdf_server")
