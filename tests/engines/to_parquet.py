"""Turns the data `redress generate --parquet` wrote into typed Parquet, as a warehouse holds it:
dates as DATE (billing_month too: the month it falls in), money as DECIMAL or BIGINT, rates as
DECIMAL; accounts and events from CSV to Parquet. With --text the charges stay text, as generate
wrote them, but every other row's tax_rate gains a trailing zero (`0.1` → `0.10`: one tax group).
Usage: to_parquet.py DATA_DIR [--text]"""
import glob
import os
import sys

import duckdb

data = sys.argv[1]
text = "--text" in sys.argv[2:]
con = duckdb.connect()
con.execute(
    f"""COPY (SELECT * REPLACE (CAST(opened_on AS DATE) AS opened_on, CAST(closed_on AS DATE) AS closed_on)
        FROM read_csv('{data}/accounts.csv', all_varchar = true)) TO '{data}/accounts.parquet' (FORMAT PARQUET)"""
)
con.execute(
    f"""COPY (SELECT * REPLACE (CAST("date" AS DATE) AS "date", CAST(quantity AS BIGINT) AS quantity)
        FROM read_csv('{data}/events.csv', all_varchar = true)) TO '{data}/events.parquet' (FORMAT PARQUET)"""
)
os.remove(f"{data}/accounts.csv")
os.remove(f"{data}/events.csv")
for path in sorted(glob.glob(f"{data}/charges/*.parquet")):
    typed = path + ".typed"
    if text:
        con.execute(
            f"""COPY (SELECT * EXCLUDE (file_row_number)
                  REPLACE (CASE WHEN file_row_number % 2 = 1 AND contains(tax_rate, '.') THEN tax_rate || '0' ELSE tax_rate END AS tax_rate)
                FROM read_parquet('{path}', file_row_number = true) ORDER BY file_row_number) TO '{typed}' (FORMAT PARQUET)"""
        )
        os.replace(typed, path)
        continue
    con.execute(
        f"""COPY (SELECT account_id,
              CAST(billing_month || '-01' AS DATE) AS billing_month,
              CAST(period_start AS DATE) AS period_start, CAST(period_end AS DATE) AS period_end,
              item, quantity, unit_price,
              CAST(list_amount AS DECIMAL(18, 0)) AS list_amount,
              CAST(discount_rate AS DECIMAL(6, 4)) AS discount_rate,
              CAST(amount AS DECIMAL(18, 2)) AS amount,
              CAST(tax_rate AS DECIMAL(6, 4)) AS tax_rate,
              CAST(paid_on AS DATE) AS paid_on
            FROM read_parquet('{path}')) TO '{typed}' (FORMAT PARQUET)"""
    )
    os.replace(typed, path)
