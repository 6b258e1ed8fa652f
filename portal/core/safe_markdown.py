"""Untrusted Markdown (model answers, third-party READMEs, model cards) rebuilt as Markdown safe for st.markdown.

The text is parsed with markdown-it-py and written out again from its tokens: the structure (headings, lists,
quotes, tables, code, emphasis) comes from this module, and every piece of the author's text is escaped, so
nothing the author typed can become raw HTML, an image, a link, LaTeX, a Streamlit directive (`:red[...]`),
an icon or a Mermaid diagram. Links keep only http, https and mailto, each followed by a visible marker with the
host; bare URLs become such links too. Images become their alt text and URL as plain text: nothing loads.

Streamlit's GitHub-flavoured Markdown turns bare URLs and e-mail addresses into links *after* escapes are
resolved, and replaces `:material/name:` the same way, so backslashes cannot stop them: a word joiner (U+2060,
invisible) is put inside each such pattern instead.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

# Beyond these limits the text is shown as plain escaped text instead of Markdown. Parsing is linear-ish, but a
# browser laying out a megabyte of nested emphasis or thousands of nested quotes is not; plain text is cheap to
# show and loses nothing. A normal long answer (a few thousand tokens) is far below either limit.
# markdown-it-py itself slows down more than linearly on thousands of unclosed "[" (about 2 s for 40,000) and on
# long runs of emphasis delimiters or table pipes, so those counts have limits too, far above what prose needs.
MAX_MARKDOWN_CHARS = 60_000
MAX_LINES = 2_000  # markdown-it-py needs about 0.2 s per thousand list items or headings
MAX_COUNTS = {"[": 2_000, "*": 10_000, "_": 10_000, "~": 5_000, "|": 5_000, "<": 5_000, "`": 10_000}
MAX_DEPTH = 24  # markdown-it's nesting limit: deeper blocks would be dropped by the parser, so fall back instead
MAX_HIGHLIGHTED_CODE = 20_000  # a longer code block keeps no language: syntax highlighting is the slow part

WORD_JOINER = "\u2060"
HEADING_OFFSET = 2  # an answer's "# Title" becomes a level-3 heading, below the page's own title and sections
ALLOWED_SCHEMES = {"http", "https", "mailto"}

_PARSER = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_DEPTH}).enable(["table", "strikethrough"])
_ESCAPED = {code: "\\" + chr(code) for code in range(33, 127) if not chr(code).isalnum()}  # ASCII punctuation
# Where Streamlit would find an autolink, an icon or its logo after escapes are resolved: a word joiner goes here.
_BREAK_AT = re.compile(r"(?i)(?<=https)(?=:)|(?<=http)(?=:)|(?<=www)(?=\.)|(?<=@)(?=.)|(?<=:material)(?=[/_])"
                       r"|(?<=:streamlit)(?=:)", re.DOTALL)
# GitHub-flavoured Markdown's own patterns for bare URLs and e-mail addresses (mdast-util-gfm-autolink-literal).
_BARE_URL = re.compile(r"(?i)(https?://|www(?=\.))([-.A-Za-z0-9_]+)([^ \t\r\n]*)")
# Bounded, so a long run without "@" is not rescanned from every position (GFM's own is unbounded, but every
# "@" gets a word joiner anyway: an address this misses is shown as text, never as an unmarked link).
_EMAIL = re.compile(r"([-.A-Za-z0-9_+]{1,64})@([-A-Za-z0-9_]{1,63}(?:\.[-A-Za-z0-9_]{1,63}){1,8})")
_TRAILING = "!\"&'),.:;<>?]}"
_UNSAFE_IN_HREF = {" ": "%20", "<": "%3C", ">": "%3E", "\\": "%5C", "\n": "", "\r": "", "\t": "%09"}


def safe_markdown(text: str, *, heading_offset: int = HEADING_OFFSET) -> str:
    """Markdown for st.markdown: the author's structure kept, nothing that loads, runs or links unmarked."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if too_big(text):
        return plain_text(text)
    tokens = _PARSER.parse(text)
    if _too_deep(tokens):
        return plain_text(text)
    return "\n".join(_Writer(heading_offset).blocks(SyntaxTreeNode(tokens).children, tight=False))


def too_big(text: str) -> bool:
    """True when the text is past the limits above: shown as plain text, never parsed as Markdown."""
    return (len(text) > MAX_MARKDOWN_CHARS or text.count("\n") >= MAX_LINES
            or any(text.count(ch) > limit for ch, limit in MAX_COUNTS.items()))


def _too_deep(tokens: list[Token]) -> bool:
    """True when blocks reach markdown-it's limit (it drops what is deeper) or emphasis nests beyond it."""
    if any(token.level >= MAX_DEPTH - 1 for token in tokens):
        return True
    for token in tokens:
        depth = 0
        for child in token.children or ():
            depth += child.nesting
            if depth >= MAX_DEPTH:
                return True
    return False


def plain_text(text: str) -> str:
    """Text for st.markdown shown exactly as typed, line breaks kept: no formatting, link, image, icon or HTML."""
    return _escape(text.replace("\r\n", "\n").replace("\r", "\n"), breaks=_break_points(text)).replace(
        "\n", "  \n")


def plain_chunks(chunks: Iterable[str]) -> Iterator[str]:
    """plain_text for a stream: each chunk escaped with what came before in mind, so a URL split across chunks
    still cannot become a link."""
    tail = ""
    for chunk in chunks:
        if not chunk:
            continue
        joined = tail + chunk
        breaks = {p - len(tail) for p in _break_points(joined, until=len(joined) + 1) if p >= len(tail)}
        yield _escape(chunk, breaks=breaks).replace("\n", "  \n")
        tail = joined[-16:]


def _break_points(text: str, *, until: int | None = None) -> set[int]:
    """Positions where a word joiner goes so no autolink, icon or logo pattern survives; not at the very end."""
    end = len(text) if until is None else until
    return {m.start() for m in _BREAK_AT.finditer(text) if m.start() < end}


def _escape(text: str, *, breaks: set[int] | frozenset[int] = frozenset()) -> str:
    """Every ASCII punctuation character backslash-escaped, with word joiners at the given positions."""
    if breaks:
        pieces, last = [], 0
        for position in sorted(breaks):
            pieces += [text[last:position], WORD_JOINER]
            last = position
        text = "".join(pieces) + text[last:]
    return text.translate(_ESCAPED)


@dataclass
class _Text:
    """A run of the author's text; `linkable` is False inside a link's label or an image's alt text."""

    raw: str
    linkable: bool = True


def _previous_allows_link(text: str, index: int, *, email: bool = False) -> bool:
    """GFM links a bare URL only at the start, or after whitespace or punctuation (not after "/" for e-mail)."""
    if index == 0:
        return True
    ch = text[index - 1]
    if email and ch == "/":
        return False
    return ch.isspace() or unicodedata.category(ch)[0] in "PSZ"


def _domain_ok(domain: str) -> bool:
    parts = domain.split(".")
    return len(parts) >= 2 and all("_" not in p and re.search(r"[A-Za-z0-9]", p) for p in parts[-2:] if p)


def _trim_trailing(url: str) -> str:
    """A bare URL without the punctuation that ends the sentence around it (GFM's rule, parentheses balanced)."""
    kept = url.rstrip(_TRAILING)
    trail = url[len(kept):]
    while ")" in trail and kept.count("(") > kept.count(")"):
        cut = trail.index(")") + 1
        kept, trail = kept + trail[:cut], trail[cut:]
    return kept


def _bare_links(raw: str, linkable: list[bool]) -> list[tuple[int, int, str]]:
    """(start, end, href) of each bare URL or e-mail address in linkable text, in order, not overlapping."""
    found: list[tuple[int, int, str]] = []
    for m in _BARE_URL.finditer(raw):
        scheme = m.group(1)
        domain = (scheme + m.group(2)) if scheme.lower() == "www" else m.group(2)
        if not (_previous_allows_link(raw, m.start()) and _domain_ok(domain)):
            continue
        url = _trim_trailing(m.group(0).split("<")[0])  # "<" ends a bare URL (as in GitHub's own renderer)
        if len(url) > len(scheme) and all(linkable[m.start():m.start() + len(url)]):
            href = ("http://" + url) if scheme.lower() == "www" else url
            found.append((m.start(), m.start() + len(url), href))
    starts, ends = [s for s, _, _ in found], [e for _, e, _ in found]
    for m in _EMAIL.finditer(raw):
        index = bisect_left(ends, m.start() + 1)  # the first URL ending after this address starts
        if (index < len(starts) and starts[index] < m.end()) or re.search(r"[-\d_]$", m.group(2)):
            continue
        if _previous_allows_link(raw, m.start(), email=True) and all(linkable[m.start():m.end()]):
            found.append((m.start(), m.end(), "mailto:" + m.group(0)))
    return sorted(found)


def safe_href(href: str) -> str | None:
    """The link target if its scheme is allowed (http, https, mailto), made safe inside <...>; else None."""
    href = href.strip()
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES or (scheme != "mailto" and not parts.hostname):
        return None
    return "".join(_UNSAFE_IN_HREF.get(ch, ch) for ch in href if ch.isprintable())


def link_marker(href: str) -> str:
    """The visible sign after a link that it leads outside the portal: ↗ and the host (or "e-mail")."""
    parts = urlsplit(href)
    where = "e-mail" if parts.scheme.lower() == "mailto" else (parts.hostname or "")
    return f"\u00a0:gray[↗\u00a0{_escape(where, breaks=_break_points(where))}]"


def _format_text(runs: list[_Text]) -> str:
    """Consecutive runs of the author's text as escaped Markdown, bare URLs turned into marked links."""
    raw = "".join(r.raw for r in runs)
    linkable = [flag for r in runs for flag in [r.linkable] * len(r.raw)]
    breaks = sorted(_break_points(raw))
    out, position = [], 0
    for start, end, href in [*_bare_links(raw, linkable), (len(raw), len(raw), "")]:
        between = breaks[bisect_left(breaks, position):bisect_left(breaks, start)]
        out.append(_escape(raw[position:start], breaks={b - position for b in between}))
        if href:
            label = raw[start:end]
            out.append(f"[{_escape(label, breaks=_break_points(label))}](<{safe_href(href) or ''}>)"
                       + link_marker(href))
        position = end
    return "".join(out)


def _joined(pieces: list[str | _Text]) -> str:
    """Markup as it is, each run of consecutive text pieces formatted together."""
    out: list[str] = []
    runs: list[_Text] = []
    for piece in [*pieces, ""]:
        if isinstance(piece, _Text):
            runs.append(piece)
            continue
        if runs:
            out.append(_format_text(runs))
            runs = []
        out.append(piece)
    return "".join(out)


def _code_span(content: str, *, in_table: bool) -> str:
    """Inline code with a fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    if content.startswith("`") or content.endswith("`") or (content.startswith(" ") and content.strip()):
        content = f" {content} "
    if in_table:
        content = content.replace("|", "\\|")  # GFM splits table cells before it reads code spans
    return f"{fence}{content}{fence}"


class _Writer:
    """Writes Markdown back out from markdown-it's syntax tree, escaping every piece of the author's text."""

    def __init__(self, heading_offset: int) -> None:
        self.heading_offset = heading_offset

    def blocks(self, nodes: list[SyntaxTreeNode], *, tight: bool) -> list[str]:
        """Block nodes as lines; a blank line between blocks, except a list right under a tight item's text."""
        lines: list[str] = []
        previous = None
        for node in nodes:
            block = self.block(node)
            if previous is not None and block:
                starts_at_one = node.type == "bullet_list" or int(node.attrs.get("start", 1)) == 1
                if not (tight and previous.type == "paragraph" and node.type.endswith("_list") and starts_at_one):
                    lines.append("")
            lines.extend(block)
            previous = node
        return lines

    def block(self, node: SyntaxTreeNode) -> list[str]:
        kind = node.type
        if kind == "paragraph":
            return self.inline(node.children[0]).split("\n") if node.children else []
        if kind == "heading":
            level = min(6, int(node.tag[1]) + self.heading_offset)
            text = self.inline(node.children[0]).replace("  \n", " ").replace("\n", " ") if node.children else ""
            return [f"{'#' * level} {text}".rstrip()]
        if kind in ("fence", "code_block"):
            return self.code(node)
        if kind == "hr":
            return ["***"]  # not "---": right under a line of text that would make it a heading
        if kind == "blockquote":
            return [f"> {line}" if line else ">" for line in self.blocks(node.children, tight=False)]
        if kind in ("bullet_list", "ordered_list"):
            return self.list(node)
        if kind == "table":
            return self.table(node)
        return [_escape(node.content)] if node.content else []  # a block this module does not know: as text

    def code(self, node: SyntaxTreeNode) -> list[str]:
        content = node.content if node.content.endswith("\n") or not node.content else node.content + "\n"
        longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
        fence = "`" * max(3, longest + 1)
        language = (node.info or "").split(maxsplit=1)[0] if node.type == "fence" and node.info else ""
        leading_word = re.match(r"\w*", language).group().lower()
        if (not re.fullmatch(r"[A-Za-z0-9_+#.-]{1,32}", language) or leading_word == "mermaid"
                or len(content) > MAX_HIGHLIGHTED_CODE):
            language = ""  # Mermaid would draw (and could link); an odd info string could mean anything
        return [fence + language, *content[:-1].split("\n"), fence] if content else [fence + language, fence]

    def list(self, node: SyntaxTreeNode) -> list[str]:
        ordered = node.type == "ordered_list"
        number = int(node.attrs.get("start", 1)) if ordered else 0
        tight = all(p.hidden for item in node.children for p in item.children if p.type == "paragraph")
        lines: list[str] = []
        for index, item in enumerate(node.children):
            marker = f"{number + index}{node.markup or '.'}" if ordered else (node.markup or "-")
            body = self.blocks(item.children, tight=tight)
            if index and not tight:
                lines.append("")
            pad = " " * (len(marker) + 1)
            lines.append(f"{marker} {body[0]}".rstrip() if body else marker)
            lines.extend(f"{pad}{line}" if line else "" for line in body[1:])
        return lines

    def table(self, node: SyntaxTreeNode) -> list[str]:
        rows = [row for section in node.children for row in section.children]
        lines = []
        for index, row in enumerate(rows):
            cells = [self.inline(c.children[0], in_table=True).replace("  \n", " ").replace("\n", " ")
                     if c.children else "" for c in row.children]
            lines.append("| " + " | ".join(cells) + " |")
            if index == 0:
                lines.append("|" + "|".join(self.alignment(c) for c in row.children) + "|")
        return lines

    @staticmethod
    def alignment(cell: SyntaxTreeNode) -> str:
        style = str(cell.attrs.get("style", ""))
        left, right = "left" in style or "center" in style, "right" in style or "center" in style
        return f"{':' if left else ''}---{':' if right else ''}"

    def inline(self, node: SyntaxTreeNode, *, in_table: bool = False) -> str:
        """An inline node's children as Markdown: runs of text collected so a bare URL is seen whole."""
        pieces: list[str | _Text] = []
        self.collect(node.children, pieces, linkable=True, in_table=in_table)
        return _joined(pieces)

    def collect(self, nodes: list[SyntaxTreeNode], pieces: list[str | _Text], *, linkable: bool,
                in_table: bool) -> None:
        """Each inline node as markup (str) or the author's text (_Text), in order."""
        delimiters = {"em": "*", "strong": "**", "s": "~~"}
        for node in nodes:
            kind = node.type
            if kind in ("text", "text_special"):
                pieces.append(_Text(node.content, linkable))
            elif kind == "softbreak":
                pieces.append("\n")
            elif kind == "hardbreak":
                pieces.append("  \n")
            elif kind == "code_inline":
                pieces.append(_code_span(node.content, in_table=in_table))
            elif kind in delimiters:
                pieces.append(delimiters[kind])
                self.collect(node.children, pieces, linkable=linkable, in_table=in_table)
                pieces.append(delimiters[kind])
            elif kind == "link":
                self.link(node, pieces, linkable=linkable, in_table=in_table)
            elif kind == "image":
                src = str(node.attrs.get("src", ""))
                alt = node.content or "image"
                pieces.append(_Text(f"{alt} (image: {src})" if src else alt, linkable=False))
            else:
                pieces.append(_Text(node.content, linkable))

    def link(self, node: SyntaxTreeNode, pieces: list[str | _Text], *, linkable: bool, in_table: bool) -> None:
        """An allowed link as [label](<href>) and its marker; any other as its label and target in plain text."""
        target = str(node.attrs.get("href", ""))
        href = safe_href(target) if linkable else None
        if href is None:
            self.collect(node.children, pieces, linkable=False, in_table=in_table)
            if target and node.info != "auto":
                pieces.append(_Text(f" ({target})", linkable=False))
            elif target and not node.children:
                pieces.append(_Text(target, linkable=False))
            return
        label: list[str | _Text] = []
        self.collect(node.children, label, linkable=False, in_table=in_table)
        text = _joined(label).strip()
        pieces.append(f"[{text or _escape(href, breaks=_break_points(href))}](<{href}>){link_marker(href)}")
