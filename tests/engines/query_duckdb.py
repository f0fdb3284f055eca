"""Runs one query read from standard input with DuckDB and prints its rows as comma-separated
values, one row per line. Usage: query_duckdb.py < QUERY"""
import sys

import duckdb

for row in duckdb.sql(sys.stdin.read()).fetchall():
    print(",".join("" if value is None else str(value) for value in row))
