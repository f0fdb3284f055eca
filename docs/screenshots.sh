#!/usr/bin/env bash
# Regenerates the screenshots in docs/ from the bundled sample, with a real headless Chromium:
# a Japanese notice, an English notice, the report, and a page of a notice's PDF (run --pdf).
# Needs chromium, fonts-noto-cjk and poppler-utils (pdftoppm):
#   apt-get install chromium fonts-noto-cjk poppler-utils
#   docs/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run --release --quiet -- run --incident samples/incidents/demo.toml --data samples/data/demo \
  --out "$out/demo" --pdf -qq
file_of() { # the notice file of an account, from notices/index.csv
  python3 -c 'import csv,sys; print(next(r["file"] for r in csv.DictReader(open(sys.argv[1])) if r["account_id"]==sys.argv[2]))' \
    "$out/demo/notices/index.csv" "$1"
}
shot() { # shot HTML PNG WIDTH HEIGHT
  chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$out/profile" \
    --window-size="$3,$4" --screenshot="$2" "file://$1" 2>/dev/null
}
shot "$out/demo/notices/$(file_of ADSL-0003)" docs/notice-ja.png 900 1500
shot "$out/demo/notices/$(file_of ADSL-0004)" docs/notice-en.png 900 1500
shot "$out/demo/summary/report.html" docs/report.png 1100 1500
claim="$(file_of ADSL-0003)"
pdftoppm -png -r 70 -f 3 -l 3 -singlefile "$out/demo/notices/pdf/${claim%.html}.pdf" docs/notice-pdf-page3
echo "wrote docs/notice-ja.png docs/notice-en.png docs/report.png docs/notice-pdf-page3.png"
