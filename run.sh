#!/usr/bin/env bash
# Install what is needed, then run the worker and the dashboard (SQLite + built-in simulator).
# The dashboard is served at http://localhost:${RADAR_DASHBOARD_PORT:-8501}; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh requirements.txt
scripts/install_fonts.sh  # CJK glyphs for the PDF/PNG reports; warns when it cannot
exec .venv/bin/python manage.py demo "$@"
