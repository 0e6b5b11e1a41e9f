#!/usr/bin/env bash
# Set up everything the tests need, then run them (the README's second command; .ci/run calls it).
#   - uv (from PyPI) and the locked environment with the test extras
#   - Debian's chromium, for the tests that open reports in a real browser
#   - Debian's Java 17, for the Spark test (the spark extra goes into .venv-spark, made by the test)
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

if ! command -v java >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  echo "Installing Debian's Java 17 for the Spark test (Spark 4 needs it) ..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

uv sync --frozen --extra test --quiet
# dbt-spark and pyspark in an environment of their own (tests/test_dbt_spark.py): with pyspark
# installed, Great Expectations imports it, and pyspark.sql.connect exits pytest-xdist workers
UV_PROJECT_ENVIRONMENT=.venv-spark uv sync --frozen --extra spark --quiet
uv run --frozen ruff check .
uv run --frozen pytest -q -p no:cacheprovider -n 2 "$@"
