"""The failure report's server tracebacks: found in a portal's log, whole, once each."""

from tests.failure_tracebacks import tracebacks_in

LOG = """2026-12-03 INFO streamlit: starting
2026-12-03 ERROR streamlit.runtime.scriptrunner: Uncaught app execution
Traceback (most recent call last):
  File "portal/views/sandbox.py", line 43, in <module>
    vectors=deps.vector_store(context.settings),
KeyError: 'default_tenant'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "portal/deps.py", line 181, in vector_store
ValueError: Could not connect to tenant default_tenant
2026-12-03 INFO streamlit: next run
"""


def test_each_traceback_runs_from_its_first_line_to_its_exception() -> None:
    blocks = tracebacks_in(LOG)
    assert blocks == [
        "Traceback (most recent call last):\n  File \"portal/views/sandbox.py\", line 43, in <module>\n"
        "    vectors=deps.vector_store(context.settings),\nKeyError: 'default_tenant'",
        "Traceback (most recent call last):\n  File \"portal/deps.py\", line 181, in vector_store\n"
        "ValueError: Could not connect to tenant default_tenant",
    ]


def test_a_log_without_errors_has_no_tracebacks() -> None:
    assert tracebacks_in("INFO started\nINFO healthy\n") == []
