#!/usr/bin/env python3
"""Writes data/jp_holidays.csv, the Japanese public holidays redress treats as bank holidays.

Source: the `holidays` package (python-holidays, maintained; Japan follows the 国民の祝日に関する法律
with 振替休日, 国民の休日 and the one-off days: 2019 enthronement, 2020/2021 Olympic shifts).
Regenerate with the version pinned in tests/engines/setup.sh:

    python3 scripts/jp_holidays.py > data/jp_holidays.csv
"""
import sys

import holidays

FIRST_YEAR, LAST_YEAR = 1955, 2050

ja = holidays.Japan(years=range(FIRST_YEAR, LAST_YEAR + 1), language="ja")
en = holidays.Japan(years=range(FIRST_YEAR, LAST_YEAR + 1), language="en_US")
out = sys.stdout
out.write(f"# Japanese public holidays {FIRST_YEAR}-{LAST_YEAR}, from python-holidays {holidays.__version__} (scripts/jp_holidays.py)\n")
out.write("date,name_ja,name_en\n")
for day in sorted(ja):
    out.write(f"{day.isoformat()},{ja[day]},{en[day]}\n")
