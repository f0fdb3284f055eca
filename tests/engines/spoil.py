"""Makes one cell bad in a Parquet file: sets `amount` of the given 1-based row to 2900.5.
Usage: spoil.py FILE ROW"""
import os
import sys

import duckdb

path, row = sys.argv[1], int(sys.argv[2])
spoiled = path + ".spoiled"
duckdb.connect().execute(
    f"""COPY (SELECT * EXCLUDE (file_row_number)
          REPLACE (CASE WHEN file_row_number + 1 = {row} THEN CAST(2900.5 AS DECIMAL(18, 2)) ELSE amount END AS amount)
        FROM read_parquet('{path}', file_row_number = true) ORDER BY file_row_number) TO '{spoiled}' (FORMAT PARQUET)"""
)
os.replace(spoiled, path)
