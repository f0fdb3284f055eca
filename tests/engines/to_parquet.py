"""Reshapes the typed Parquet `redress generate --parquet` wrote into the variants the engine tests
read. By default the charges' money gets other decimal types a warehouse uses (amount DECIMAL(18, 2),
unit_price BIGINT), so scale handling is exercised. With --text the charges become text, as an
export without types holds them: months `YYYY-MM`, dates ISO text, money BIGINT, rates as written
(`0.1`), and every other row's tax_rate gains a trailing zero (`0.1` → `0.10`: one tax group).
Usage: to_parquet.py DATA_DIR [--text]"""
import glob
import os
import sys

import duckdb

data = sys.argv[1]
text = "--text" in sys.argv[2:]
con = duckdb.connect()
for table in ("accounts", "events"):
    if not os.path.exists(f"{data}/{table}.parquet"):
        sys.exit(f"{data}/{table}.parquet is missing: generate --parquet writes all three tables")


def plain_rate(column):
    """A DECIMAL rate as the shortest text: 0.1000 -> 0.1, 0.0500 -> 0.05."""
    return f"rtrim(rtrim(CAST({column} AS VARCHAR), '0'), '.')"


for path in sorted(glob.glob(f"{data}/charges/*.parquet")):
    typed = path + ".typed"
    if text:
        con.execute(
            f"""COPY (SELECT account_id,
                  strftime(billing_month, '%Y-%m') AS billing_month,
                  CAST(period_start AS VARCHAR) AS period_start, CAST(period_end AS VARCHAR) AS period_end,
                  item, quantity,
                  CAST(unit_price AS BIGINT) AS unit_price,
                  CAST(list_amount AS BIGINT) AS list_amount,
                  {plain_rate('discount_rate')} AS discount_rate,
                  CAST(amount AS BIGINT) AS amount,
                  CASE WHEN file_row_number % 2 = 1 AND contains({plain_rate('tax_rate')}, '.')
                       THEN {plain_rate('tax_rate')} || '0' ELSE {plain_rate('tax_rate')} END AS tax_rate,
                  CAST(paid_on AS VARCHAR) AS paid_on
                FROM read_parquet('{path}', file_row_number = true) ORDER BY file_row_number) TO '{typed}' (FORMAT PARQUET)"""
        )
    else:
        con.execute(
            f"""COPY (SELECT * REPLACE (
                  CAST(unit_price AS BIGINT) AS unit_price,
                  CAST(amount AS DECIMAL(18, 2)) AS amount)
                FROM read_parquet('{path}')) TO '{typed}' (FORMAT PARQUET)"""
        )
    os.replace(typed, path)
