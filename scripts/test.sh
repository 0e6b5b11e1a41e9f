#!/usr/bin/env bash
# Set up everything the tests need, then run them (the README's second command; .ci/run calls it).
#   - uv (from PyPI) and the locked environment with the test extras
#   - Debian's chromium, for the tests that open reports in a real browser
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet uv
fi

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  echo "Installing Debian's chromium for the browser tests ..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

uv sync --frozen --extra test --quiet  # the spark extra runs in its own environment (tests/test_dbt_spark.py)
uv run --frozen ruff check .
uv run --frozen pytest -q -p no:cacheprovider -n 2 "$@"
