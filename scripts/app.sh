#!/usr/bin/env bash
# Quick start 1: set up and open the gridplan app on the bundled demo city.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh" app
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m streamlit run app.py "$@"
