#!/usr/bin/env python3
"""Checks for test/integration/fault_injection_test.sh (a helper, not a test).

  expected-dead-letters REFERENCE_DL_JSONL TOPIC
      The dead letters a Kafka run over TOPIC (one partition, produced in file
      order, so offset = line - 1) must write, from the file run's dead-letter
      file: one line "OFFSET REASON TOPIC PARTITION" each, sorted by offset.
  parse-dead-letters
      Reads Kafka's console consumer output (print.headers=true,
      print.value=false) on stdin; prints "OFFSET REASON TOPIC PARTITION" for
      each record, sorted by offset, duplicates kept.
  compare-dead-letters EXPECTED ACTUAL
      Compares the two files as multisets of records. On a difference it says
      which source offsets are there twice or more, missing, unexpected, or
      have another reason/topic/partition, and exits 1.
  compare-rows EXPECTED_CSV ACTUAL_CSV
      Compares two "user,date,count" row files (no header). On a difference it
      says which rows are missing, extra, counted too high or too low, and
      exits 1.
"""
import collections
import json
import re
import sys

EXAMPLES = 8


def expected_dead_letters(reference_path, topic):
    rows = [json.loads(line) for line in open(reference_path, encoding="utf-8")]
    for r in sorted(rows, key=lambda r: r["line"]):
        print(r["line"] - 1, r["reason"], topic, 0)


def parse_dead_letters():
    out = []
    for line in sys.stdin:
        line = line.rstrip("\n").rstrip("\t")
        if not line:
            continue
        headers = {}
        # "k:v,k:v,...": split only where the next header's name starts, so a
        # comma inside tally.error.detail does not cut it.
        for part in re.split(r",(?=tally\.)", line):
            key, _, value = part.partition(":")
            headers[key] = value
        offset = headers.get("tally.source.offset")
        try:
            key = int(offset)
        except (TypeError, ValueError):
            key = -1
        out.append((key, f'{offset} {headers.get("tally.error.reason")} '
                         f'{headers.get("tally.source.topic")} {headers.get("tally.source.partition")}'))
    for _, text in sorted(out, key=lambda x: x[0]):
        print(text)


def _read_records(path):
    records = []
    for line in open(path, encoding="utf-8", errors="replace"):
        fields = line.split()
        if fields:
            records.append((fields[0], " ".join(fields[1:])))
    return records


def _examples(items):
    items = list(items)
    text = ", ".join(str(i) for i in items[:EXAMPLES])
    return text + (f", ... ({len(items)} in all)" if len(items) > EXAMPLES else "")


def compare_dead_letters(expected_path, actual_path):
    expected = _read_records(expected_path)
    actual = _read_records(actual_path)
    want = {}
    for offset, rest in expected:
        want[offset] = rest
    seen = collections.Counter(offset for offset, _ in actual)
    problems = []
    twice = sorted((o for o, n in seen.items() if n > 1), key=lambda o: int(o) if o.lstrip("-").isdigit() else -1)
    if twice:
        problems.append(f"{len(twice)} source offsets written more than once: "
                        + _examples(f"{o} x{seen[o]}" for o in twice))
    missing = sorted((o for o in want if o not in seen), key=int)
    if missing:
        problems.append(f"{len(missing)} expected dead letters missing, at offsets: "
                        + _examples(f"{o} ({want[o]})" for o in missing))
    unexpected = sorted({o for o in seen if o not in want}, key=lambda o: int(o) if o.lstrip("-").isdigit() else -1)
    if unexpected:
        by_offset = {}
        for offset, rest in actual:
            by_offset.setdefault(offset, rest)
        problems.append(f"{len(unexpected)} unexpected dead letters, at offsets: "
                        + _examples(f"{o} ({by_offset[o]})" for o in unexpected))
    wrong = []
    for offset, rest in actual:
        if offset in want and rest != want[offset]:
            wrong.append(f"{offset}: [{rest}], expected [{want[offset]}]")
    if wrong:
        problems.append(f"{len(wrong)} dead letters with another reason/topic/partition: " + _examples(wrong))
    print(f"dead letters: {len(expected)} expected, {len(actual)} read from the topic", file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    return 1 if problems else 0


def _read_rows(path):
    rows = {}
    dup = []
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.strip()
        if not line:
            continue
        user, date, count = line.rsplit(",", 2)
        if (user, date) in rows:
            dup.append(f"{user},{date}")
        rows[(user, date)] = int(count)
    return rows, dup


def compare_rows(expected_path, actual_path):
    want, _ = _read_rows(expected_path)
    got, dup = _read_rows(actual_path)
    problems = []
    if dup:
        problems.append(f"{len(dup)} rows twice in the table: " + _examples(dup))
    missing = sorted(k for k in want if k not in got)
    if missing:
        problems.append(f"{len(missing)} rows missing: " + _examples(f"{u},{d} (expected {want[(u, d)]})"
                                                                   for u, d in missing))
    extra = sorted(k for k in got if k not in want)
    if extra:
        problems.append(f"{len(extra)} rows that should not be there: " + _examples(f"{u},{d}={got[(u, d)]}"
                                                                                 for u, d in extra))
    high = sorted(k for k in want if k in got and got[k] > want[k])
    if high:
        problems.append(f"{len(high)} counts too high (double counting?), by {sum(got[k] - want[k] for k in high)} "
                        "in all: " + _examples(f"{u},{d}: {got[(u, d)]} instead of {want[(u, d)]}" for u, d in high))
    low = sorted(k for k in want if k in got and got[k] < want[k])
    if low:
        problems.append(f"{len(low)} counts too low (lost records?), by {sum(want[k] - got[k] for k in low)} in all: "
                        + _examples(f"{u},{d}: {got[(u, d)]} instead of {want[(u, d)]}" for u, d in low))
    print(f"table rows: {len(want)} expected (sum {sum(want.values())}), {len(got)} in the table "
          f"(sum {sum(got.values())})", file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    return 1 if problems else 0


def main(argv):
    if len(argv) >= 2:
        command, args = argv[1], argv[2:]
        if command == "expected-dead-letters" and len(args) == 2:
            expected_dead_letters(*args)
            return 0
        if command == "parse-dead-letters" and not args:
            parse_dead_letters()
            return 0
        if command == "compare-dead-letters" and len(args) == 2:
            return compare_dead_letters(*args)
        if command == "compare-rows" and len(args) == 2:
            return compare_rows(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
