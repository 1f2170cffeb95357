#!/usr/bin/env bash
# Quick start 2: set up and run the whole test suite (lint, then pytest).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh" test
cd "$ROOT"
"$ROOT/.venv/bin/ruff" check gridplan tests app.py ui scripts benchmarks
exec "$ROOT/.venv/bin/python" -m pytest "$@"
