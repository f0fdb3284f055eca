#!/usr/bin/env bash
# Installs what the engine tests (tests/engines.rs) need on a fresh machine: DuckDB and Apache Spark
# (pyspark, which brings spark-sql) in a virtualenv, and a Java 17 or 21 runtime for Spark; and
# python-holidays, from which data/jp_holidays.csv is generated (scripts/jp_holidays.py).
#
#   tests/engines/setup.sh            # prints the virtualenv's path
#   REDRESS_ENGINE_VENV=DIR tests/engines/setup.sh
set -euo pipefail
DUCKDB_VERSION=2.0.1
PYSPARK_VERSION=4.0.1
HOLIDAYS_VERSION=0.109
venv="${REDRESS_ENGINE_VENV:-$HOME/.cache/redress-engines}"

if ! "$venv/bin/python" -c "import duckdb, pyspark, holidays, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION' or pyspark.__version__ != '$PYSPARK_VERSION' or holidays.__version__ != '$HOLIDAYS_VERSION')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION" "pyspark==$PYSPARK_VERSION" "holidays==$HOLIDAYS_VERSION"
fi

# Spark 4 runs on Java 17 or 21.
if ! java -version 2>&1 | grep -qE 'version "(17|21)[."]'; then
  if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq openjdk-17-jre-headless >&2
  else
    echo "Java 17 or 21 is required for Spark (install openjdk-17-jre-headless)" >&2
    exit 1
  fi
fi
echo "$venv"
