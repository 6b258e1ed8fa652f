"""Tracebacks that the portals under test logged, pulled out of failed reports to be printed last.

A CI log is read from its two ends; a browser test's own message (an aria snapshot) pushes the portal's log into
the cut middle. The server-side traceback is what says why a page broke, so it is repeated where it is seen.
"""

from __future__ import annotations

import re

TRACEBACK_START = "Traceback (most recent call last)"
MAX_LINES_EACH = 60


def tracebacks_in(text: str) -> list[str]:
    """Each traceback in a log: from its first line to the exception line (the first unindented one after it)."""
    found, current = [], None
    for line in text.splitlines():
        if TRACEBACK_START in line:
            current = [line]
        elif current is not None:
            current.append(line)
            if line and not line[0].isspace() and not re.match(r"^(During handling|The above exception)", line):
                found.append("\n".join(current[-MAX_LINES_EACH:]))
                current = None
    return found


def failed_portal_tracebacks(reports) -> list[tuple[str, str]]:
    """(test id, traceback) for every traceback in the portal sections of failed tests' reports, once each."""
    seen, result = set(), []
    for report in reports:
        for title, content in getattr(report, "sections", ()):
            if not title.startswith("portal "):
                continue
            for block in tracebacks_in(content):
                if block not in seen:
                    seen.add(block)
                    result.append((report.nodeid, block))
    return result
