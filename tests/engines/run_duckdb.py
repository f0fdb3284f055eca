"""Runs a stage.sql as `duckdb < stage.sql` would, with the DuckDB Python package. Each
`NAME=GLOB` argument first creates table NAME from the Parquet files GLOB, as a catalog table that
`redress plan --table` can name. Usage: run_duckdb.py STAGE_SQL [NAME=GLOB ...]"""
import sys

import duckdb

con = duckdb.connect()
for argument in sys.argv[2:]:
    name, files = argument.split("=", 1)
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{files}', union_by_name = true)")
with open(sys.argv[1], encoding="utf-8") as script:
    con.execute(script.read())
