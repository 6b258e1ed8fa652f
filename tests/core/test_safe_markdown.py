"""Untrusted Markdown made safe for st.markdown: structure kept, nothing that loads, runs or links unmarked.

Each output is read back with markdown-it (the same CommonMark rules Streamlit's renderer follows) to check what a
browser would get: which links, images and raw HTML, and what text.
"""

from __future__ import annotations

import re
import time

import pytest
from markdown_it import MarkdownIt

from portal.core.safe_markdown import (MAX_MARKDOWN_CHARS, WORD_JOINER, plain_chunks, plain_text, safe_href,
                                       safe_markdown, too_big)
from tests.conftest import REPO_ROOT

READ_BACK = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def rendered(markdown: str) -> list:
    """Every token, inline children included, of the Markdown as a renderer reads it."""
    tokens = []
    for token in READ_BACK.parse(markdown):
        tokens.append(token)
        tokens.extend(token.children or [])
    return tokens


def kinds(markdown: str) -> set[str]:
    return {t.type for t in rendered(markdown)}


def hrefs(markdown: str) -> list[str]:
    return [t.attrs["href"] for t in rendered(markdown) if t.type == "link_open"]


def text_of(markdown: str) -> str:
    return "".join(t.content for t in rendered(markdown) if t.type in ("text", "code_inline")).replace(
        WORD_JOINER, "").replace("\u00a0", " ")


# --- what an answer is for: structure survives ---------------------------------------------------------------

def test_code_blocks_lists_tables_and_emphasis_keep_working():
    answer = ("Here is the fix:\n\n```python\ndef add(a, b):\n    return a + b  # <b>not html</b>\n```\n\n"
              "- first *point*\n- second **point**\n  1. nested\n  2. more\n\n"
              "| name | value |\n|:-----|------:|\n| `x` | ~~old~~ new |\n\n> quoted\n")
    out = safe_markdown(answer)
    tokens = rendered(out)
    fence = next(t for t in tokens if t.type == "fence")
    assert fence.info == "python" and "return a + b  # <b>not html</b>" in fence.content
    for kind in ("bullet_list_open", "ordered_list_open", "table_open", "em_open", "strong_open", "s_open",
                 "blockquote_open", "code_inline"):
        assert kind in kinds(out), kind
    assert [t.content for t in tokens if t.type == "inline" and t.map and "first" in t.content]
    assert next(t for t in tokens if t.type == "th_open").attrs.get("style") == "text-align:left"


def test_headings_are_demoted_below_the_page():
    out = safe_markdown("# Big\n\n## Smaller\n\nSetext\n===\n\n###### smallest")
    levels = [t.tag for t in rendered(out) if t.type == "heading_open"]
    assert levels == ["h3", "h4", "h3", "h6"]


def test_plain_prose_reads_the_same():
    prose = "Costs rose 5% (about $3) in Q1 - see section 2. Use a_b or 2*3; it's fine!"
    assert text_of(safe_markdown(prose)) == prose


def test_tight_and_loose_lists_and_numbering_survive():
    out = safe_markdown("3. three\n4. four\n\n- a\n\n- b\n")
    tokens = rendered(out)
    assert next(t for t in tokens if t.type == "ordered_list_open").attrs.get("start") == 3
    paragraphs = [t for t in tokens if t.type == "paragraph_open"]
    assert [p.hidden for p in paragraphs] == [True, True, False, False]


# --- hostile answers ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "Hi <b onclick=alert(1)>there</b>",
    "<iframe src='/evil'></iframe>",
    "<!-- hidden --> text",
])
def test_raw_html_is_shown_as_text(hostile):
    out = safe_markdown(hostile)
    assert not kinds(out) & {"html_block", "html_inline"}
    assert text_of(out) == hostile


@pytest.mark.parametrize("link", [
    "[click](javascript:alert(1))", "[click](JaVaScRiPt:alert(1))", "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "[click](vbscript:msgbox)", "[click](file:///etc/passwd)", "[click](/admin)", "[click](#top)",
    "<javascript:alert(1)>", "[click][ref]\n\n[ref]: javascript:alert(1)", "[x](data:image/png;base64,AAAA)",
])
def test_links_other_than_http_https_mailto_become_text(link):
    out = safe_markdown(link)
    assert hrefs(out) == []
    assert "click" in text_of(out) or "javascript" in text_of(out) or "data" in text_of(out)


def test_a_url_inside_html_is_cut_at_the_tag():
    out = safe_markdown("<iframe src='https://evil.example'></iframe>")
    assert hrefs(out) == ["https://evil.example'"] or hrefs(out) == ["https://evil.example"]
    assert "html_inline" not in kinds(out) and "</iframe>" in text_of(out)


def test_allowed_links_are_marked_with_their_host():
    out = safe_markdown("See [the docs](https://docs.example.com/a?b=1) or [mail](mailto:help@example.com).")
    assert hrefs(out) == ["https://docs.example.com/a?b=1", "mailto:help@example.com"]
    assert "↗ docs.example.com" in text_of(out) and "↗ e-mail" in text_of(out)
    assert ":gray[" in out  # Streamlit draws the marker in grey


def test_a_link_label_cannot_hide_where_it_goes():
    out = safe_markdown("[https://bank.example](https://evil.example/login)")
    assert hrefs(out) == ["https://evil.example/login"] and "↗ evil.example" in text_of(out)


@pytest.mark.parametrize("image", [
    "![beacon](https://evil.example/p.png?user=1)",
    "![](https://evil.example/p.png)",
    "[![badge](https://evil.example/b.svg)](https://good.example)",
    "![ref][b]\n\n[b]: https://evil.example/r.png",
])
def test_images_become_alt_text_and_url_nothing_loads(image):
    out = safe_markdown(image)
    assert "image" not in kinds(out)
    assert "evil.example/" in text_of(out)
    assert all("evil.example" not in h for h in hrefs(out))


def test_bare_urls_and_addresses_become_marked_links_or_text():
    out = safe_markdown("Go to https://example.com/x_y?a=1. or www.example.org, or write to me@example.com")
    assert hrefs(out) == ["https://example.com/x_y?a=1", "http://www.example.org", "mailto:me@example.com"]
    assert text_of(out).count("↗") == 3


@pytest.mark.parametrize("text", [
    "http://evil.example", "www.evil.example", "a@evil.example", "xhttp://evil.example", "https://x.example/a@b.c",
])
def test_no_autolink_pattern_survives_in_text_that_is_not_a_link(text):
    """Streamlit links bare URLs after escapes are resolved: in unlinked text each pattern carries a word joiner."""
    for markdown in (plain_text(text), safe_markdown(f"![{text}](x)")):
        unlinked = "".join(t.content for t in rendered(markdown) if t.type == "text")
        for pattern in ("http:", "https:", "www.", "@e", "@b"):
            assert pattern not in unlinked.lower(), (markdown, pattern)


@pytest.mark.parametrize("extension, kept", [
    (":red[alarm] and :blue-background[x]", ":red[alarm] and :blue-background[x]"),
    (":material/warning: :material_lock: :streamlit:", ":material/warning: :material_lock: :streamlit:"),
    ("$x^2$ and $$\\frac{1}{2}$$", "$x^2$ and $$\\frac{1}{2}$$"),
    (":::warning\nboo\n:::", ":::warning\nboo\n:::"),
    ("~single~ tilde", "~single~ tilde"),
    ("footnote[^1]", "footnote[^1]"),
])
def test_streamlit_extensions_are_text(extension, kept):
    out = safe_markdown(extension)
    assert text_of(out).replace("\n", "") == kept.replace("\n", "")
    assert not re.search(r"(?<!\\)[:$~\[]", out), out  # each one escaped: no directive, LaTeX or strikethrough
    resolved = out.replace("\\", "")  # Streamlit finds icons and its logo after escapes are resolved
    assert ":material/" not in resolved and ":material_" not in resolved and ":streamlit:" not in resolved


def test_mermaid_blocks_are_code_not_diagrams():
    out = safe_markdown("```mermaid\ngraph TD; A-->B; click A \"javascript:alert(1)\"\n```\n\n```Mermaid-x\nA\n```")
    assert [t.info for t in rendered(out) if t.type == "fence"] == ["", ""]


def test_code_containing_fences_and_backticks_stays_inside_its_block():
    out = safe_markdown("````\n```\n<script>\n```\n````\n\nand ``a ` b``")
    tokens = rendered(out)
    assert [t.content for t in tokens if t.type == "fence"] == ["```\n<script>\n```\n"]
    assert [t.content for t in tokens if t.type == "code_inline"] == ["a ` b"]


@pytest.mark.parametrize("name, bomb", [
    ("1 MB of *", "*" * 1_000_000),
    ("1 MB of _", "_" * 1_000_000),
    ("1 MB of [", "[" * 1_000_000),
    ("nested emphasis", "*a " * 20_000 + "b" + " a*" * 20_000),
    ("10,000 nested quotes", ">" * 10_000 + " deep"),
    ("10,000 nested lists", "- " * 10_000 + "x"),
    ("10,000 nested lists, a line each", "\n".join(" " * min(i, 3) + "- x" for i in range(10_000))),
    ("unclosed brackets under the size limit", "[a" * (MAX_MARKDOWN_CHARS // 2 - 10)),
    ("many list items", "1. a\n" * 5_000),
    ("long www run", "www." * 15_000),
    ("long local part", "a" * 50_000 + "@"),
])
def test_pathological_input_is_transformed_fast_and_stays_text(name, bomb):
    started = time.perf_counter()
    out = safe_markdown(bomb)
    assert time.perf_counter() - started < 1.5, name
    assert not kinds(out[:200_000]) & {"html_block", "html_inline", "image"}


def test_deep_nesting_falls_back_to_text_without_losing_any():
    deep = ">" * 100 + " the end"
    assert text_of(safe_markdown(deep)).endswith("the end")


def test_plain_chunks_matches_plain_text_however_the_stream_is_cut():
    text = "visit https://evil.example or www.x.example, mail a@b.example :material/warning: <b>x</b>\nline"
    whole = plain_text(text)
    for size in (1, 2, 3, 7):
        chunks = [text[i:i + size] for i in range(0, len(text), size)]
        assert "".join(plain_chunks(chunks)) == whole, size
    assert hrefs(whole) == [] and "<b>" not in "".join(t.content for t in rendered(whole) if t.type != "text")


@pytest.mark.parametrize("href, safe", [
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("http://example.com/<x>", "http://example.com/%3Cx%3E"),
    ("mailto:a@example.com", "mailto:a@example.com"),
    ("https:/no-host", None), ("javascript:alert(1)", None), ("//example.com", None), ("ftp://example.com", None),
])
def test_safe_href(href, safe):
    assert safe_href(href) == safe


def test_too_big_sends_bombs_to_plain_text_and_keeps_normal_documents_as_markdown():
    """portal.ui.untrusted_markdown shows a text past these limits with st.text: no Markdown parser in the browser."""
    assert too_big("*_" * 250_000) and too_big("[" * 3_000) and too_big("a\n" * 3_000)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")[:MAX_MARKDOWN_CHARS]
    assert not too_big(readme) and "table_open" in kinds(safe_markdown(readme))
