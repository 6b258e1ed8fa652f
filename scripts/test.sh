#!/usr/bin/env bash
# The whole test suite: installs what the tests need (Chromium, PostgreSQL, the Python environment), then pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not browser" -x
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
ensure_system_packages
ensure_venv local,test
start_postgres
# Two workers (pytest-xdist): the suite waits on browsers, servers and databases as much as on the CPU, so two
# workers on two cores take it from about 20 to about 12 minutes. PYTEST_WORKERS=0 runs it in one process.
exec "$VENV/bin/python" -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
