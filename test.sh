#!/usr/bin/env bash
# Install what is needed (Python packages, Debian chromium for the browser tests), then run
# ruff, mypy and the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh requirements-dev.txt
scripts/install_chromium.sh

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "==> mypy"
.venv/bin/mypy

echo "==> pytest"
exec .venv/bin/python -m pytest "$@"
