#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv and install gridplan.
# Sourced by scripts/app.sh and scripts/test.sh; safe to run again (skips when nothing changed).
# Usage: scripts/setup.sh [app|test]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WANT="${1:-app}"
VENV="${GRIDPLAN_VENV:-$ROOT/.venv}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "gridplan setup: need root to run: $* (install it, or run as root)" >&2; return 1; fi
}
apt_install() {
  echo "gridplan setup: installing Debian packages: $*" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. A Python >= 3.11 with venv.
PY="${PYTHON:-python3}"
if ! command -v "$PY" >/dev/null 2>&1; then apt_install python3 python3-venv python3-pip; fi
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "gridplan setup: $("$PY" --version) is too old; gridplan needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then apt_install python3-venv; fi

# 2. Debian packages: a CJK font so the map book prints Chinese names, and poppler-utils
#    (pdftoppm) with which the tests render the map book's pages. Installed once, when missing.
DEB=()
if ! ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 \
  && ! (command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]); then
  DEB+=(fonts-noto-cjk)
fi
if [ "$WANT" = "test" ] && ! command -v pdftoppm >/dev/null 2>&1; then DEB+=(poppler-utils); fi
if [ "${#DEB[@]}" -gt 0 ]; then apt_install "${DEB[@]}"; fi

# 3. The virtual environment, reinstalled only when pyproject.toml or the wanted extras change.
EXTRAS="test"
STAMP="$VENV/.gridplan-installed"
SIG="$(sha256sum pyproject.toml | cut -c1-16)-$EXTRAS"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$SIG" ]; then
  echo "gridplan setup: installing gridplan and its dependencies into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e ".[$EXTRAS]"
  echo "$SIG" > "$STAMP"
fi

# 3. Debian's chromium for the real-browser test (tests/ui/test_browser.py). Playwright drives
#    it through executable_path; it never downloads a browser of its own.
if [ "$WANT" = "test" ] && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium || echo "gridplan setup: chromium not installed; the browser test will be skipped" >&2
fi
