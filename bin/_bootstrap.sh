# Sourced by bin/run and bin/test: make .venv and install the project when pyproject changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON_BIN="${PYTHON:-python3}"
if ! command -v "$PYTHON_BIN" >/dev/null; then
  echo "Python 3.11+ is needed (set PYTHON=/path/to/python3)." >&2; exit 1
fi
if ! "$PYTHON_BIN" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Python 3.11+ is needed; $("$PYTHON_BIN" --version) found." >&2; exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON_BIN" -m venv .venv; then
    echo "Could not create .venv: on Debian/Ubuntu run 'apt-get install python3-venv'." >&2; exit 1
  fi
fi
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "Installing Switchboard and its dependencies into .venv ..."
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev,bench]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
