#!/usr/bin/env bash
# The charges-pass benchmark (see benches/charges_pass.py): builds redress in release, installs
# DuckDB for the reference in a virtualenv beside the data, and runs the comparison.
#
#   benches/charges_pass.sh                                   # 1 M accounts x 24 months, 3 runs
#   benches/charges_pass.sh --runs 5 --cases dense-parquet
#   benches/charges_pass.sh --accounts 1430000 --cases dense-parquet --runs 1   # > 100 M rows
#
# Data is generated once into --dir (default $TMPDIR/redress-charges-pass) and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/redress-target}"
DUCKDB_VERSION="${DUCKDB_VERSION:-2.0.1}"
venv="${BENCH_VENV:-${TMPDIR:-/tmp}/redress-bench-venv}"
command -v /usr/bin/time >/dev/null || { echo "GNU time (/usr/bin/time) is required for peak RSS" >&2; exit 1; }
if ! "$venv/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "duckdb==$DUCKDB_VERSION"
fi
cargo build --release --quiet
exec "$venv/bin/python" benches/charges_pass.py --redress "$CARGO_TARGET_DIR/release/redress" "$@"
