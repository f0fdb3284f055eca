#!/usr/bin/env python3
"""The charges pass at scale: redress against a DuckDB SQL reference of the same incidents.

Generates ACCOUNTS x MONTHS of billing data independently of `redress generate` (DuckDB SQL, typed
Parquet: money DECIMAL(18,0), rates DECIMAL(6,4), dates DATE; and the same tables as CSV), then for
each incident runs `redress run` and the reference in alternation, checks that both give the same
refund total to the yen, and prints whole-process time, the ratio redress/reference, rows/s and
peak RSS (GNU time).

Incidents:
  sparse  missed_cancellation, about 2% of accounts in scope
  dense   wrong_equipment_count, every account has an `equipment_count` event (all in scope)

The reference does the same work as redress: it validates every row (required cells, ranges, whole
money, period order, known account) and computes the refunds with the same arithmetic (tax per
invoice per rate rounded down, interest 14.5% act/365 rounded down once per invoice).

Usage: benches/charges_pass.sh [--accounts N] [--months M] [--runs K] [--dir DIR] [--out-dir DIR]
                               [--cases sparse-parquet,dense-parquet,sparse-csv,dense-csv]
(the wrapper builds redress in release and installs DuckDB in a virtualenv, then runs this script
with --redress).

redress writes its outputs (a dense run writes about 160,000 notice files) under --out-dir, by
default /dev/shm when it exists: on some disks creating that many files costs seconds of kernel
time that vary from run to run and have nothing to do with the charges pass.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

FIRST_MONTH = "2018-01-01"
REFUND_DATE = "2020-03-31"


def generate(directory: Path, accounts: int, months: int) -> None:
    """Writes accounts, charges and events as typed Parquet and as CSV."""
    parquet = directory / "parquet"
    csv = directory / "csv"
    if (parquet / "charges.parquet").exists() and (csv / "charges.csv").exists():
        return
    parquet.mkdir(parents=True, exist_ok=True)
    csv.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    start = time.time()
    con.execute(
        f"""
        CREATE TABLE accounts AS
        WITH base AS (
          SELECT i,
                 CAST(hash(i, 'open') % 1000 AS BIGINT) AS r_open,
                 CAST(hash(i, 'close') % 1000 AS BIGINT) AS r_close,
                 CAST(hash(i, 'plan') % 4 AS BIGINT) AS r_plan,
                 CAST(hash(i, 'bank') % 1000 AS BIGINT) AS r_bank,
                 CAST(hash(i, 'lang') % 1000 AS BIGINT) AS r_lang,
                 CAST(hash(i, 'place') % 6 AS BIGINT) AS r_place,
                 CAST(hash(i, 'name') % 12 AS BIGINT) AS r_name
          FROM range({accounts}) t(i)
        ), dated AS (
          SELECT *,
                 CASE WHEN r_open < 100
                      THEN DATE '{FIRST_MONTH}' + CAST(hash(i, 'od') % ({months} * 30) AS INTEGER)
                      ELSE DATE '{FIRST_MONTH}' - CAST(1 + hash(i, 'od') % 2000 AS INTEGER) END AS opened_on
          FROM base
        )
        SELECT printf('AC%08d', i) AS account_id,
               ['佐藤 太郎','鈴木 花子','高橋 一郎','田中 美咲','伊藤 健','渡辺 陽子','山本 大輔','中村 結衣',
                'Alex Morgan','Sam Taylor','Jordan Lee','Chris Walker'][r_name + 1] AS holder_name,
               ['100-0001','980-0811','060-0001','530-0001','460-0008','812-0011'][r_place + 1] AS postal_code,
               ['東京都千代田区千代田1-1','宮城県仙台市青葉区一番町4-1','北海道札幌市中央区北一条西2',
                '大阪府大阪市北区梅田3-1','愛知県名古屋市中区栄3-4','福岡県福岡市博多区博多駅前2-1'][r_place + 1] AS address,
               printf('ac%08d@example.jp', i) AS email,
               CASE WHEN r_lang < 80 THEN 'en' ELSE 'ja' END AS language,
               CASE WHEN r_place < 3 THEN 'east' ELSE 'west' END AS region,
               ['fiber_home','fiber_mansion','adsl','isdn'][r_plan + 1] AS plan,
               CASE WHEN hash(i, 'corp') % 1000 < 80 THEN 'corporate' ELSE 'individual' END AS customer_type,
               opened_on,
               CASE WHEN r_close < 50 THEN 'closed' ELSE 'active' END AS status,
               CASE WHEN r_close < 50
                    THEN greatest(opened_on, DATE '{FIRST_MONTH}') + CAST(hash(i, 'cd') % 300 AS INTEGER)
                    END AS closed_on,
               CASE WHEN r_bank < 800 THEN printf('%04d', 1 + hash(i, 'bc') % 9000) END AS bank_code,
               CASE WHEN r_bank < 800 THEN printf('%03d', hash(i, 'br') % 1000) END AS branch_code,
               CASE WHEN r_bank < 800 THEN 'ordinary' END AS bank_account_type,
               CASE WHEN r_bank < 800 THEN printf('%07d', hash(i, 'an') % 10000000) END AS bank_account_number,
               CASE WHEN r_bank < 800 THEN 'ﾔﾏﾀﾞ ﾀﾛｳ' END AS bank_account_holder_kana,
               i AS n,
               [5200, 3800, 2900, 2400][r_plan + 1] AS base_fee,
               hash(i, 'wlan') % 1000 < 600 AS has_wlan,
               1 + CAST(hash(i, 'cards') % 2 AS INTEGER) AS cards,
               hash(i, 'isp') % 1000 < 500 AS has_isp
        FROM dated
        ORDER BY i
        """
    )
    # Events: 2% ask to cancel (billing goes on: the sparse incident); every account has an
    # equipment_count at opening (true count; 5% of card holders were billed one card too many),
    # and 10% a later count that billing never picked up (both directions).
    con.execute(
        f"""
        CREATE TABLE events AS
        SELECT * FROM (
          SELECT account_id, 'cancel_requested' AS kind,
                 greatest(opened_on, DATE '{FIRST_MONTH}') + CAST(hash(n, 'cancel') % 600 AS INTEGER) AS date,
                 CAST(NULL AS VARCHAR) AS detail, CAST(NULL AS BIGINT) AS quantity, n
          FROM accounts WHERE hash(n, 'sparse') % 1000 < 20 AND status = 'active'
          UNION ALL
          SELECT account_id, 'equipment_count', opened_on, 'wlan_card',
                 CASE WHEN NOT has_wlan THEN 0
                      WHEN hash(n, 'over') % 1000 < 50 THEN cards - 1
                      ELSE cards END, n
          FROM accounts
          UNION ALL
          SELECT account_id, 'equipment_count',
                 greatest(opened_on, DATE '{FIRST_MONTH}') + CAST(1 + hash(n, 'later') % 600 AS INTEGER),
                 'wlan_card',
                 CASE WHEN hash(n, 'dir') % 2 = 0 THEN cards + 1 ELSE cards - 1 END, n
          FROM accounts WHERE has_wlan AND hash(n, 'second') % 1000 < 100
        ) ORDER BY n, date, kind
        """
    )
    con.execute(
        f"""
        CREATE TABLE charges AS
        WITH months AS (
          SELECT m, (DATE '{FIRST_MONTH}' + to_months(m))::DATE AS first_day,
                 last_day(DATE '{FIRST_MONTH}' + to_months(m)) AS last_day
          FROM range({months}) t(m)
        ), lines AS (
          SELECT a.*, mo.m, mo.first_day, mo.last_day,
                 greatest(a.opened_on, mo.first_day) AS start_day,
                 least(coalesce(a.closed_on, mo.last_day), mo.last_day) AS end_day
          FROM accounts a JOIN months mo
            ON a.opened_on <= mo.last_day AND (a.closed_on IS NULL OR a.closed_on >= mo.first_day)
        ), priced AS (
          SELECT *,
                 date_diff('day', start_day, end_day) + 1 AS days,
                 date_diff('day', first_day, last_day) + 1 AS month_days,
                 CASE WHEN hash(n, m, 'paid') % 1000 < 30 THEN NULL
                      ELSE last_day + CAST(20 + hash(n, m, 'pd') % 10 AS INTEGER) END AS paid_on,
                 CASE WHEN first_day < DATE '2019-10-01' THEN 0.08 ELSE 0.10 END AS rate
          FROM lines
        ), items AS (
          SELECT n, m, account_id, first_day, start_day, end_day, 1 AS ord, 'base_fee' AS item, 1 AS quantity,
                 base_fee AS unit_price, base_fee * days // month_days AS amount, rate, paid_on FROM priced
          UNION ALL
          SELECT n, m, account_id, first_day, start_day, end_day, 2, 'call_charges', 1,
                 CAST(hash(n, m, 'calls') % 3000 AS BIGINT), CAST(hash(n, m, 'calls') % 3000 AS BIGINT), rate, paid_on
          FROM priced WHERE hash(n, 'caller') % 1000 < 950
          UNION ALL
          SELECT n, m, account_id, first_day, start_day, end_day, 3, 'wlan_card', cards, 300, cards * 300, rate, paid_on
          FROM priced WHERE has_wlan
          UNION ALL
          SELECT n, m, account_id, first_day, start_day, end_day, 4, 'isp_fee', 1, 1000, 1000 * days // month_days, rate, paid_on
          FROM priced WHERE has_isp
          UNION ALL
          SELECT n, m, account_id, first_day, start_day, end_day, 5, 'universal_service', 1, 2, 2, rate, paid_on
          FROM priced WHERE hash(n, 'univ') % 1000 < 150
        )
        SELECT account_id,
               strftime(first_day, '%Y-%m') AS billing_month,
               start_day AS period_start, end_day AS period_end, item,
               CAST(quantity AS BIGINT) AS quantity,
               CAST(unit_price AS DECIMAL(18,0)) AS unit_price,
               CAST(NULL AS DECIMAL(18,0)) AS list_amount,
               CAST(NULL AS DECIMAL(6,4)) AS discount_rate,
               CAST(amount AS DECIMAL(18,0)) AS amount,
               CAST(rate AS DECIMAL(6,4)) AS tax_rate,
               paid_on
        FROM items ORDER BY m, n, ord
        """
    )
    account_columns = (
        "account_id, holder_name, postal_code, address, email, language, region, plan, customer_type, "
        "opened_on, status, closed_on, bank_code, branch_code, bank_account_type, bank_account_number, "
        "bank_account_holder_kana"
    )
    con.execute(f"COPY (SELECT {account_columns} FROM accounts) TO '{parquet}/accounts.parquet' (FORMAT parquet)")
    con.execute(f"COPY (SELECT account_id, kind, date, detail, quantity FROM events) TO '{parquet}/events.parquet' (FORMAT parquet)")
    con.execute(f"COPY charges TO '{parquet}/charges.parquet' (FORMAT parquet)")
    con.execute(f"COPY (SELECT {account_columns} FROM accounts) TO '{csv}/accounts.csv' (HEADER)")
    con.execute(f"COPY (SELECT account_id, kind, date, detail, quantity FROM events) TO '{csv}/events.csv' (HEADER)")
    con.execute(f"COPY charges TO '{csv}/charges.csv' (HEADER)")
    rows = con.execute("SELECT count(*) FROM charges").fetchone()[0]
    print(f"generated {accounts} accounts x {months} months = {rows} charge rows in {time.time() - start:.0f} s into {directory}")


INCIDENT_COMMON = f"""title = "ベンチマーク"
company = "ベンチマーク通信株式会社"
refund_date = {REFUND_DATE}
currency = "JPY"

[incident.text.ja]
summary = "一部のお客さまについて、ご請求額に誤りがありました。"
cause = "料金システムの設定誤りによるものです。"
response = "過大にご請求した額に消費税相当額と利息を加えてご返金いたします。"
prevention = "設定変更時の照合手順を設けました。"
contact = "ベンチマーク通信 お客さまセンター 0120-000-000"

[incident.text.en]
title = "Benchmark"
company = "Benchmark Telecom Co., Ltd."
summary = "Some customers were billed incorrectly."
cause = "A setting in our billing system was wrong."
response = "We refund what we over-billed, with tax and interest."
prevention = "We now check billing results whenever a setting changes."
contact = "Benchmark Telecom customer centre 0120-000-000"

[display.region.east]
ja = "東日本"
en = "Eastern Japan"

[display.region.west]
ja = "西日本"
en = "Western Japan"

[interest]
policy = "fixed"
rate = "0.145"

[payout]
active = "bill_credit"
closed = "bank_transfer"

[payout.zengin]
requester_code = "0000012345"
requester_name = "ﾍﾞﾝﾁﾏｰｸ(ｶ"
bank_code = "0001"
bank_name = "ﾐｽﾞﾎ"
branch_code = "001"
branch_name = "ﾄｳｷﾖｳ"
account_type = "ordinary"
account_number = "1234567"
"""

INCIDENTS = {
    "sparse": f"""[incident]
id = "bench-sparse"
kind = "missed_cancellation"
{INCIDENT_COMMON}
[rule]
items = ["base_fee", "wlan_card", "isp_fee"]
effective = "end_of_month"
""",
    "dense": f"""[incident]
id = "bench-dense"
kind = "wrong_equipment_count"
{INCIDENT_COMMON}
[rule]
items = ["wlan_card"]
""",
}

# Validation the reference performs, like redress: required cells, ranges, whole money (the Parquet
# and CSV columns are typed, so whole yen is a property of the type), period order, known account.
VALIDATE = """
SELECT count(*) FILTER (WHERE c.account_id IS NULL OR c.billing_month IS NULL OR c.period_start IS NULL
         OR c.period_end IS NULL OR c.item IS NULL OR c.quantity IS NULL OR c.unit_price IS NULL
         OR c.amount IS NULL OR c.tax_rate IS NULL
         OR NOT regexp_full_match(c.billing_month, '[0-9]{4}-(0[1-9]|1[0-2])')
         OR c.quantity < 0 OR c.tax_rate < 0 OR c.tax_rate >= 1
         OR c.discount_rate < 0 OR c.discount_rate >= 1
         OR c.period_start > c.period_end OR a.account_id IS NULL) AS bad
FROM charges c LEFT JOIN (SELECT DISTINCT account_id FROM accounts) a USING (account_id)
"""

# Refund arithmetic of SPEC §4 for the bench incidents: diff per row, B and D per invoice and rate,
# tax rounded down per group, interest 14.5% act/365 from the day after payment, rounded down.
def reference_sql(kind: str) -> str:
    if kind == "sparse":
        should = """
        WITH trig AS (
          SELECT account_id, min(date) AS trigger_date FROM events
          WHERE kind = 'cancel_requested' GROUP BY account_id
        ), rows AS (
          SELECT c.*, last_day(t.trigger_date) AS service_end
          FROM charges c JOIN trig t USING (account_id)
        ), diffs AS (
          SELECT *,
            CASE WHEN item NOT IN ('base_fee', 'wlan_card', 'isp_fee') THEN 0
                 ELSE greatest(0, date_diff('day', greatest(period_start, service_end + 1), period_end) + 1) END AS unbillable,
            date_diff('day', period_start, period_end) + 1 AS period_days
          FROM rows
        ), rowdiff AS (
          SELECT *, CAST(amount AS HUGEINT) - CASE
              WHEN unbillable = 0 THEN CAST(amount AS HUGEINT)
              WHEN unbillable >= period_days THEN 0
              ELSE sign(amount) * ((abs(CAST(amount AS HUGEINT)) * (period_days - unbillable)) // period_days) END AS diff
          FROM diffs
        )"""
    else:
        should = """
        WITH trig AS (
          SELECT DISTINCT account_id FROM events WHERE kind = 'equipment_count' AND detail = 'wlan_card'
        ), counts AS (
          -- The rule's only item is wlan_card: a count applies when its detail names it or is empty.
          SELECT account_id, date, quantity FROM events
          WHERE kind = 'equipment_count' AND (detail = 'wlan_card' OR detail IS NULL)
        ), touched AS (
          SELECT c.* FROM charges c SEMI JOIN trig USING (account_id) WHERE c.item = 'wlan_card'
        ), truth AS (
          SELECT t.*, e.quantity AS true_count
          FROM touched t ASOF LEFT JOIN counts e
            ON t.account_id = e.account_id AND t.period_start >= e.date
        ), rowdiff AS (
          SELECT account_id, billing_month, tax_rate, paid_on, amount,
                 CASE WHEN true_count IS NULL OR true_count = quantity THEN 0
                      ELSE CAST(amount AS HUGEINT) - true_count * CAST(unit_price AS HUGEINT) END AS diff
          FROM truth
        ), affected AS (
          SELECT DISTINCT account_id, billing_month FROM rowdiff WHERE diff <> 0
        ), rowall AS (
          SELECT c.account_id, c.billing_month, c.tax_rate, c.paid_on, c.amount, CAST(0 AS HUGEINT) AS diff
          FROM charges c SEMI JOIN affected a ON c.account_id = a.account_id AND c.billing_month = a.billing_month
          WHERE c.item <> 'wlan_card'
          UNION ALL
          SELECT r.account_id, r.billing_month, r.tax_rate, r.paid_on, r.amount, r.diff
          FROM rowdiff r SEMI JOIN affected a ON r.account_id = a.account_id AND r.billing_month = a.billing_month
        )"""
    source = "rowdiff" if kind == "sparse" else "rowall"
    return should + f""",
        groups AS (
          SELECT account_id, billing_month, tax_rate,
                 sum(CAST(amount AS HUGEINT)) AS b, sum(diff) AS d, max(paid_on) AS paid_on
          FROM {source} GROUP BY ALL
        ), taxed AS (
          SELECT *, (b * CAST(tax_rate * 10000 AS HUGEINT)) // 10000
                    - ((b - d) * CAST(tax_rate * 10000 AS HUGEINT)) // 10000 AS tax_diff
          FROM groups
        ), invoices AS (
          SELECT account_id, billing_month, sum(d) + sum(tax_diff) AS x, max(paid_on) AS paid_on
          FROM taxed GROUP BY ALL
        ), refunded AS (
          SELECT account_id, x + (x * 145 * greatest(0, date_diff('day', paid_on, DATE '{REFUND_DATE}'))) // 365000 AS total
          FROM invoices WHERE x > 0 AND paid_on IS NOT NULL
        )
        SELECT count(DISTINCT account_id) AS accounts, CAST(sum(total) AS BIGINT) AS refund_total FROM refunded
        """


def reference(kind: str, data: Path, fmt: str) -> None:
    """One reference run: validate everything, compute the refunds, print `accounts total`."""
    con = duckdb.connect()
    if fmt == "parquet":
        for table in ("accounts", "charges", "events"):
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{data}/{table}.parquet')")
    else:
        types = {
            "accounts": "{'account_id': 'VARCHAR', 'holder_name': 'VARCHAR', 'postal_code': 'VARCHAR', "
            "'address': 'VARCHAR', 'email': 'VARCHAR', 'language': 'VARCHAR', 'region': 'VARCHAR', "
            "'plan': 'VARCHAR', 'customer_type': 'VARCHAR', 'opened_on': 'DATE', 'status': 'VARCHAR', "
            "'closed_on': 'DATE', 'bank_code': 'VARCHAR', 'branch_code': 'VARCHAR', "
            "'bank_account_type': 'VARCHAR', 'bank_account_number': 'VARCHAR', 'bank_account_holder_kana': 'VARCHAR'}",
            "charges": "{'account_id': 'VARCHAR', 'billing_month': 'VARCHAR', 'period_start': 'DATE', "
            "'period_end': 'DATE', 'item': 'VARCHAR', 'quantity': 'BIGINT', 'unit_price': 'DECIMAL(18,0)', "
            "'list_amount': 'DECIMAL(18,0)', 'discount_rate': 'DECIMAL(6,4)', 'amount': 'DECIMAL(18,0)', "
            "'tax_rate': 'DECIMAL(6,4)', 'paid_on': 'DATE'}",
            "events": "{'account_id': 'VARCHAR', 'kind': 'VARCHAR', 'date': 'DATE', 'detail': 'VARCHAR', 'quantity': 'BIGINT'}",
        }
        for table, columns in types.items():
            con.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_csv('{data}/{table}.csv', header = true, columns = {columns})"
            )
    bad = con.execute(VALIDATE).fetchone()[0]
    if bad:
        print(f"bad rows: {bad}", file=sys.stderr)
        sys.exit(65)
    accounts, total = con.execute(reference_sql(kind)).fetchone()
    print(f"{accounts} {total}")


def timed(command: list, log: Path) -> tuple:
    """Runs a command under GNU time; returns (seconds, peak RSS KiB, stdout)."""
    started = time.time()
    result = subprocess.run(
        ["/usr/bin/time", "-v", "-o", str(log)] + command, capture_output=True, text=True
    )
    seconds = time.time() - started
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stderr[-3000:]}")
    peak = 0
    for line in log.read_text().splitlines():
        if "Maximum resident set size" in line:
            peak = int(line.split(":")[1])
    return seconds, peak, result.stdout


def redress_total(out: Path) -> tuple:
    lines = (out / "refunds.csv").read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("refund_total")
    return len(lines) - 1, sum(int(line.split(",")[column]) for line in lines[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    ref = sub.add_parser("reference")
    ref.add_argument("--kind", required=True)
    ref.add_argument("--data", required=True, type=Path)
    ref.add_argument("--format", required=True)
    parser.add_argument("--redress", type=Path)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "redress-charges-pass")
    parser.add_argument("--cases", default="sparse-parquet,dense-parquet,sparse-csv")
    parser.add_argument("--out-dir", type=Path,
                        default=Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else Path(tempfile.gettempdir()),
                        help="where redress writes its outputs (deleted after each run)")
    parser.add_argument("--threads", type=int, default=0, help="--threads for redress (0: all cores)")
    args = parser.parse_args()
    if args.command == "reference":
        reference(args.kind, args.data, args.format)
        return
    if args.redress is None:
        parser.error("--redress is required")
    directory = args.dir / f"{args.accounts}x{args.months}"
    generate(directory, args.accounts, args.months)
    rows = {}
    for fmt in ("parquet", "csv"):
        con = duckdb.connect()
        rows[fmt] = con.execute(
            f"SELECT (SELECT count(*) FROM read_parquet('{directory}/parquet/charges.parquet'))"
        ).fetchone()[0]
    for kind, text in INCIDENTS.items():
        (directory / f"{kind}.toml").write_text(text)
    cores = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU") if Path("/proc/cpuinfo").exists() else "unknown CPU"
    print(f"machine: {cores} cores ({model}), {memory:.0f} GiB; duckdb {duckdb.__version__}; data: {args.accounts} accounts x {args.months} months, "
          f"{rows['parquet']} charge rows; {args.runs} alternating runs per case")
    print(f"{'case':<16} {'redress s':>10} {'reference s':>12} {'ratio':>6} {'redress Mrows/s':>16} "
          f"{'redress peak':>13} {'reference peak':>15}")
    scratch = Path(tempfile.mkdtemp(prefix="redress-bench-", dir=args.out_dir))
    log = scratch / "time.log"
    for case in args.cases.split(","):
        kind, fmt = case.split("-")
        data = directory / fmt
        incident = directory / f"{kind}.toml"
        ours, theirs, ratios, our_peak, their_peak = [], [], [], [], []
        for run in range(args.runs):
            out = scratch / f"out-{case}-{run}"
            command = [str(args.redress), "run", "--quiet", "--incident", str(incident), "--data", str(data),
                       "--out", str(out)]
            if args.threads:
                command += ["--threads", str(args.threads)]
            reference_command = [sys.executable, __file__, "reference", "--kind", kind, "--data", str(data),
                                 "--format", fmt]
            # Alternate which goes first so that neither always meets a warm or cold page cache.
            pairs = [("redress", command), ("reference", reference_command)]
            if run % 2:
                pairs.reverse()
            results = {}
            for name, cmd in pairs:
                results[name] = timed(cmd, log)
            seconds, peak, _ = results["redress"]
            ref_seconds, ref_peak, ref_out = results["reference"]
            affected, total = redress_total(out)
            ref_accounts, ref_total = (int(v) for v in ref_out.split())
            if total != ref_total:
                sys.exit(f"{case}: redress refund total {total} ({affected} accounts) differs from "
                         f"the reference {ref_total} ({ref_accounts} accounts)")
            subprocess.run(["rm", "-rf", str(out)], check=True)
            ours.append(seconds)
            theirs.append(ref_seconds)
            ratios.append(seconds / ref_seconds)
            our_peak.append(peak)
            their_peak.append(ref_peak)
        print(f"{case:<16} {statistics.median(ours):>10.2f} {statistics.median(theirs):>12.2f} "
              f"{statistics.median(ratios):>6.2f} {rows['parquet'] / statistics.median(ours) / 1e6:>16.1f} "
              f"{max(our_peak) / 2**20:>10.2f} GiB {max(their_peak) / 2**20:>11.2f} GiB"
              f"   (refund total {total} JPY, {affected} accounts)")
    subprocess.run(["rm", "-rf", str(scratch)], check=True)


if __name__ == "__main__":
    main()
