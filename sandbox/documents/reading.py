"""Reading an uploaded file into text with its pages or sections, and splitting it into passages.

Every problem a user can cause (wrong type, too big, unreadable, encrypted or hostile PDF, no text) is a
`DocumentError` whose message says what to do; nothing is stored when one is raised. PDFs are read in a confined
child process (sandbox.documents.pdf_text), never in the portal's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter
from portal.core.errors import InvalidInput
from sandbox.documents.pdf_text import PdfRefused, read_pages

# Markdown headings that start a section; deeper ones stay inside their section's text.
HEADINGS = [("#", "h1"), ("##", "h2"), ("###", "h3")]
TYPES = {".pdf": "pdf", ".md": "md", ".markdown": "md", ".txt": "txt", ".text": "txt"}
BYTES_PER_MB = 1024 * 1024


class DocumentError(InvalidInput):
    """An uploaded file the portal cannot take; the message says why and what to do."""


@dataclass(frozen=True)
class DocumentLimits:
    """What an upload may be: size, types, pages and passages, and how passages are cut."""

    max_mb: float
    allowed_types: tuple[str, ...]
    max_pages: int
    max_chunks: int
    chunk_chars: int
    chunk_overlap: int
    parse_timeout_s: float = 20.0  # a PDF is read in a child process stopped at these limits
    parse_memory_mb: int = 512


@dataclass(frozen=True)
class Segment:
    """A stretch of a document's text with where it is: a PDF page or a Markdown section."""

    text: str
    page: int | None = None
    section: str = ""


@dataclass(frozen=True)
class Passage:
    """One chunk to embed, in document order, with its page or section."""

    position: int
    text: str
    page: int | None
    section: str


def file_type(file_name: str, limits: DocumentLimits) -> str:
    """'pdf', 'md' or 'txt' for an allowed file name; a DocumentError otherwise."""
    kind = TYPES.get(PurePath(file_name).suffix.lower())
    allowed = ", ".join(f".{t}" for t in limits.allowed_types)
    if kind is None or kind not in limits.allowed_types:
        raise DocumentError(f"“{file_name}” is not a file type the sandbox reads. Upload one of: {allowed}.")
    return kind


def check_size(file_name: str, size_bytes: int, limits: DocumentLimits) -> None:
    """Refuse an empty file or one over the size limit."""
    if size_bytes == 0:
        raise DocumentError(f"“{file_name}” is empty.")
    if size_bytes > limits.max_mb * BYTES_PER_MB:
        raise DocumentError(f"“{file_name}” is {size_bytes / BYTES_PER_MB:.1f} MB; at most {limits.max_mb:g} MB "
                            "fit. Upload a shorter extract.")


def read_segments(file_name: str, kind: str, data: bytes, limits: DocumentLimits) -> list[Segment]:
    """The document's text as segments (one per PDF page or Markdown section); refuses a file with no text."""
    if kind == "pdf":
        segments = _pdf_pages(file_name, data, limits)
    else:
        text = _decoded(file_name, data)
        segments = _markdown_sections(text) if kind == "md" else [Segment(text=text)]
    segments = [Segment(_clean(s.text), s.page, s.section) for s in segments]
    segments = [s for s in segments if s.text.strip()]
    if not segments:
        scanned = " It may be a scan: the sandbox reads a PDF's text, not its images." if kind == "pdf" else ""
        raise DocumentError(f"“{file_name}” holds no text to work with.{scanned}")
    return segments


def _pdf_pages(file_name: str, data: bytes, limits: DocumentLimits) -> list[Segment]:
    # Read in a confined child process; the text limit is what the passages could hold at most.
    try:
        pages = read_pages(file_name, data, max_pages=limits.max_pages,
                           max_chars=limits.max_chunks * limits.chunk_chars, timeout_s=limits.parse_timeout_s,
                           memory_mb=limits.parse_memory_mb)
    except PdfRefused as refused:
        raise DocumentError(refused.message) from None
    return [Segment(text=text, page=number) for number, text in pages]


def _decoded(file_name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError(f"“{file_name}” is not UTF-8 text. Save it as UTF-8 (or as a PDF) and upload it "
                            "again.") from None


def _markdown_sections(text: str) -> list[Segment]:
    splitter = MarkdownHeaderTextSplitter(headers_to_split_on=HEADINGS, strip_headers=False)
    return [Segment(text=doc.page_content,
                    section=" > ".join(doc.metadata[name] for _, name in HEADINGS if name in doc.metadata))
            for doc in splitter.split_text(text)]


def _clean(text: str) -> str:
    # A form feed separates segments while the guardrails look at the whole document; NULs break PostgreSQL.
    return text.replace("\f", "\n").replace("\x00", "")


def split_passages(file_name: str, segments: list[Segment], limits: DocumentLimits) -> list[Passage]:
    """Cut each segment into passages of about chunk_chars, keeping its page or section; refuses too many."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=limits.chunk_chars, chunk_overlap=limits.chunk_overlap)
    passages: list[Passage] = []
    for segment in segments:
        for piece in splitter.split_text(segment.text):
            if piece.strip():
                passages.append(Passage(position=len(passages), text=piece.strip(), page=segment.page,
                                        section=segment.section[:500]))
    if len(passages) > limits.max_chunks:
        raise DocumentError(f"“{file_name}” makes {len(passages):,} passages; at most {limits.max_chunks:,} fit. "
                            "Upload the part you need.")
    return passages
