"""Row-by-row check of the final tables of scripts/bench-compare.

  compare_tables.py REFERENCE NAME=CSV...

Each CSV holds rows user_uuid,created_date,event_count (tally's has a header line;
Flink quotes its strings). Rows are compared as (lower-case user, day) -> count
against REFERENCE (tally's table). Prints one line per table: "equal (N rows)", or a
mismatch summary (rows missing, extra, with another count, and a few examples).
Exit status 1 if any table differs.
"""

import csv
import sys


def load(path):
    rows = {}
    with open(path, newline="") as f:
        for rec in csv.reader(f):
            if not rec or rec[0] == "user_uuid":
                continue
            key = (rec[0].strip().lower(), rec[1].strip())
            if key in rows:
                raise SystemExit(f"{path}: row {key} appears twice")
            rows[key] = int(rec[2])
    return rows


def main():
    ref = load(sys.argv[1])
    failed = False
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        try:
            got = load(path)
        except (OSError, ValueError, IndexError) as e:
            print(f"   {name}: cannot read its table: {e}")
            failed = True
            continue
        missing = [k for k in ref if k not in got]
        extra = [k for k in got if k not in ref]
        differ = [k for k in ref if k in got and got[k] != ref[k]]
        if not (missing or extra or differ):
            print(f"   {name}: equal to tally's table ({len(ref):,} rows, {sum(ref.values()):,} events)")
            continue
        failed = True
        print(f"   {name}: MISMATCH with tally's table ({len(ref):,} rows): {len(missing):,} rows missing, "
              f"{len(extra):,} extra, {len(differ):,} with another count")
        for k in missing[:3]:
            print(f"      missing {k[0]},{k[1]} (tally {ref[k]})")
        for k in extra[:3]:
            print(f"      extra   {k[0]},{k[1]} = {got[k]}")
        for k in differ[:3]:
            print(f"      differs {k[0]},{k[1]}: {got[k]} (tally {ref[k]})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
