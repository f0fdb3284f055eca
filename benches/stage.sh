#!/usr/bin/env bash
# The planned stage against the direct run, on the same typed Parquet: `redress plan`, the stage run
# by Apache Spark in local mode (spark-sql -f) or by DuckDB, `redress run --aggregates`, and next to
# them `redress run --data`; prints each step's wall time and peak memory (GNU time) and checks that
# both runs wrote the same files, byte for byte, but for the manifest.
#
#   benches/stage.sh [ACCOUNTS] [MONTHS] [KIND] [ENGINE]     # defaults: 100000 24 missed_cancellation spark
#
# The engines come from tests/engines/setup.sh. Data is kept in $BENCH_DIR between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-100000}"
months="${2:-24}"
kind="${3:-missed_cancellation}"
engine="${4:-spark}"
dir="${BENCH_DIR:-${TMPDIR:-/tmp}/redress-stage-$accounts-$months}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/redress-target}"
command -v /usr/bin/time >/dev/null || { echo "GNU time (/usr/bin/time) is required" >&2; exit 1; }
venv="$(tests/engines/setup.sh | tail -n 1)"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/redress"
if [ ! -f "$dir/data/accounts.parquet" ]; then
  echo "generating $accounts accounts x $months months into $dir (typed Parquet)"
  rm -rf "$dir"
  "$bin" generate --out "$dir/data" --accounts "$accounts" --months "$months" --seed 1 --parquet >/dev/null 2>&1
  "$venv/bin/python" tests/engines/to_parquet.py "$dir/data"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
timed() { # label, command...
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/stdout" 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  read -r seconds kib < "$work/time"
  printf '%-28s %8.1f s  %8.0f MiB peak\n' "$label" "$seconds" "$((kib / 1024))"
}
incident="$dir/data/incidents/$kind.toml"
timed "redress plan" "$bin" plan --incident "$incident" --engine "$engine" --data "$dir/data" \
  --aggregates "$work/aggregates" --out "$work/plan"
case "$engine" in
  spark)
    spark_home="$("$venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
    export SPARK_HOME="$spark_home"
    (cd "$work" && timed "spark-sql -f (local[$(nproc)])" \
      "$spark_home/bin/spark-sql" --master "local[$(nproc)]" --conf spark.ui.enabled=false -f "$work/plan/stage.sql")
    ;;
  duckdb)
    timed "duckdb < stage.sql" "$venv/bin/python" tests/engines/run_duckdb.py "$work/plan/stage.sql"
    ;;
esac
timed "redress run --aggregates" "$bin" run --quiet --incident "$incident" --aggregates "$work/aggregates" --out "$work/out-aggregates"
timed "redress run --data" "$bin" run --quiet --incident "$incident" --data "$dir/data" --out "$work/out-data"
rows="$("$venv/bin/python" -c "import duckdb; print(duckdb.sql(\"SELECT COUNT(*) FROM read_parquet('$dir/data/charges/*.parquet')\").fetchall()[0][0])")"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; incident: $kind; engine: $engine"
echo "charge rows: $rows; affected accounts: $(( $(wc -l < "$work/out-data/refunds.csv") - 1 ))"
echo "aggregates: $(du -sh "$work/aggregates" | cut -f1) ($(find "$work/aggregates" -name '*.parquet' | wc -l) Parquet files)"
if diff -rq -x manifest.json "$work/out-aggregates" "$work/out-data" >/dev/null; then
  echo "run --aggregates and run --data wrote the same files, byte for byte (manifest aside)"
else
  echo "run --aggregates and run --data DIFFER" >&2
  exit 1
fi
