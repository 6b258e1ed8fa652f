"""Hostile PDFs are read in a confined child process: each is refused with a message naming the limit, the
portal's own memory stays where it was, and nothing is stored."""

from __future__ import annotations

import resource
import time
from dataclasses import replace

import pytest
from sqlmodel import select

from metering.models import UsageEvent
from sandbox.documents.models import DocumentChunk, SandboxDocument
from sandbox.documents.reading import DocumentError
from sandbox.models import Conversation
from tests.sandbox.documents_support import LIMITS, embedding_requests
from tests.sandbox.hostile_pdfs import flate_bomb, many_pages, page_tree_loop, xref_loop

ROOMY = replace(LIMITS, max_mb=2.0)  # the 10,000-page file is about 1 MB
CASES = {
    "flate bomb": (flate_bomb, ROOMY, "inflates past the reader's safety limit (a decompression bomb)"),
    "flate bomb, tight memory": (flate_bomb, replace(ROOMY, parse_memory_mb=50),
                                 "needed more than 50 MB of memory to read, so reading it was stopped "
                                 "(PORTAL_DOCUMENTS_PARSE_MEMORY_MB)"),
    "page tree loop": (page_tree_loop, ROOMY, "could not be read as a PDF"),
    "10,000 pages": (many_pages, ROOMY, "has 10,000 pages; at most 5 fit. Upload the part you need (the limit "
                                        "is PORTAL_DOCUMENTS_MAX_PAGES)"),
    "10,000 pages, short time": (many_pages, replace(ROOMY, parse_timeout_s=0.3),
                                 "took longer than 0.3 s to read, so reading it was stopped "
                                 "(PORTAL_DOCUMENTS_PARSE_TIMEOUT_S)"),
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_pdf_is_refused_plainly_without_growing_the_portal(session, make_user, upload, vectors,
                                                                     fake_gateway, case) -> None:
    build, limits, message = CASES[case]
    data, user = build(), make_user()
    before, started = peak_rss_mb(), time.monotonic()
    with pytest.raises(DocumentError) as refused:
        upload(user, data, "hostile.pdf", limits=limits)
    assert message in refused.value.message and refused.value.message.startswith("“hostile.pdf”")
    assert time.monotonic() - started < 30
    assert peak_rss_mb() - before < 100  # the gigabytes were the child's to refuse, not the portal's
    session.rollback()
    assert session.exec(select(SandboxDocument)).all() == [] and session.exec(select(Conversation)).all() == []
    assert session.exec(select(DocumentChunk)).all() == [] and session.exec(select(UsageEvent)).all() == []
    assert embedding_requests(fake_gateway) == [] and vectors.list_collections() == []


def test_a_looping_xref_chain_does_not_hang_the_reader(session, make_user, upload) -> None:
    started = time.monotonic()
    outcome = upload(make_user(), xref_loop(), "looped.pdf", limits=ROOMY)
    assert time.monotonic() - started < 30
    chunks = session.exec(select(DocumentChunk).where(DocumentChunk.document_id == outcome.document.id)).all()
    assert [(c.page, c.text) for c in chunks] == [(1, "looped xref")]
