#!/usr/bin/env bash
# Install what the benchmarks need (Python packages, Debian chromium for the dashboard memory
# figure), then run them: every figure against its target. Arguments go to `manage.py bench`
# (--only ingest,tick,..., --quick, --markdown FILE).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh requirements-dev.txt
scripts/install_chromium.sh
exec .venv/bin/python manage.py bench "$@"
