#!/usr/bin/env bash
# End-to-end benchmark: generate ACCOUNTS × MONTHS of synthetic billing data, run one incident, and
# print rows/s and peak memory. Usage: benches/e2e.sh [ACCOUNTS] [MONTHS] [KIND]
# Needs GNU time (/usr/bin/time) for peak memory. Data is kept in $BENCH_DIR between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-1000000}"
months="${2:-24}"
kind="${3:-wrong_equipment_count}"
dir="${BENCH_DIR:-${TMPDIR:-/tmp}/redress-bench-$accounts-$months}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/redress-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/redress"
if [ ! -f "$dir/accounts.csv" ]; then
  echo "generating $accounts accounts x $months months into $dir"
  /usr/bin/time -f "generate: %e s wall, %M KiB peak" "$bin" generate --out "$dir" --accounts "$accounts" --months "$months" --seed 1 --force
fi
rows=$(( $(cat "$dir"/charges/*.csv | wc -l) - $(ls "$dir"/charges/*.csv | wc -l) ))
out="$(mktemp -d)/out"
log="$(mktemp)"
/usr/bin/time -f "%e %M" -o "$log" "$bin" run --quiet --incident "$dir/incidents/$kind.toml" --data "$dir" --out "$out"
read -r seconds peak_kib < "$log"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "incident: $kind; charge rows: $rows; affected accounts: $(( $(wc -l < "$out/refunds.csv") - 1 ))"
awk -v rows="$rows" -v s="$seconds" -v kib="$peak_kib" 'BEGIN { printf "run: %.1f s wall, %.0f rows/s, peak memory %.0f MiB\n", s, rows / s, kib / 1024 }'
