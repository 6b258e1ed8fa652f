#!/usr/bin/env bash
# The whole test suite: installs what the tests need (Chromium, PostgreSQL, the Python environment), then pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not browser" -x
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
ensure_system_packages
ensure_venv local,test
start_postgres
exec "$VENV/bin/python" -m pytest "$@"
