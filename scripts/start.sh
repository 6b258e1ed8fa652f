#!/usr/bin/env bash
# Fresh machine to running portal: environment, migrations, demo data, local model, portal on 127.0.0.1:8501.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
ensure_venv local
exec "$VENV/bin/coe-portal" run --seed
