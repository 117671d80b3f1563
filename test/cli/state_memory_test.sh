# End-to-end: --state-memory (docs/operations.md, "State memory"). A file job
# whose dedup state is several times the budget gives the same table as one
# with all of it in memory, in less memory; a budget below the minimum or a
# malformed size is a usage error naming what is wanted; a full disk while
# spilling stops the job with one message naming the path, and commits no
# output.
# Usage: bash state_memory_test.sh /abs/path/to/tally
# ctest: scenario (compares peak memory with and without the budget, which a sanitizer build does not keep)
source "$(dirname "$0")/lib.sh"

# 1.2M events over 7 days with a 7-day lateness: every entry stays live, about
# 35 MiB of dedup state in memory (70 MiB at its peak, while its table grows),
# against a 16 MiB budget.
"$TALLY" generate --events 1200000 --learners 20000 --days 7 --invalid-ratio 0 --late-ratio 0 \
  --output events.jsonl 2>/dev/null

peak_mib() { sed -n 's/.*peak memory \([0-9.]*\) MiB.*/\1/p' "$1"; }

expect_exit 0 "$TALLY" run --source file:events.jsonl --sink csv:all.csv
all_peak=$(peak_mib "$err")
expect_exit 0 "$TALLY" run --source file:events.jsonl --sink csv:spilled.csv --state-memory 16MiB
spilled_peak=$(peak_mib "$err")
sorted_rows all.csv >all.rows
sorted_rows spilled.csv >spilled.rows
expect_file_eq spilled.rows all.rows
expect_eq "$(head -1 spilled.csv)" "$(head -1 all.csv)" "csv header"
# The budget took effect: the state did not all stay in memory.
check "peak memory ${spilled_peak} MiB spilled vs ${all_peak} MiB in memory" \
  python3 -c "import sys; sys.exit(0 if float('$spilled_peak') < float('$all_peak') - 10 else 1)"
# The temporary spill directory is gone with the run.
check "no spill directory left" bash -c '! ls -d "${TMPDIR:-/tmp}"/tally-spill-* 2>/dev/null | grep -q .'

# Bad input: a size below the minimum, malformed sizes.
expect_exit 2 "$TALLY" run --source file:events.jsonl --sink csv:small.csv --state-memory 1MiB
expect_contains "$err" "below the minimum a job needs to run, 16MiB"
expect_missing small.csv
for size in 256 abc 12XB -5MiB 1.5GiB; do
  expect_exit 2 "$TALLY" run --source file:events.jsonl --sink csv:bad.csv --state-memory "$size"
  expect_contains "$err" "--state-memory: invalid size '$size'"
done
expect_missing bad.csv

# A full disk while spilling: a 2 MiB tmpfs as the temporary directory, in a
# mount namespace of its own (needs root).
if [[ $(id -u) -ne 0 ]] || ! unshare --mount true 2>/dev/null; then
  echo "skipped the full-disk check: it needs root and unshare --mount" >&2
else
  mkdir small-disk
  expect_exit 1 unshare --mount bash -c \
    'mount -t tmpfs -o size=2m tmpfs small-disk && TMPDIR=$PWD/small-disk exec "$0" "$@"' \
    "$TALLY" run --source file:events.jsonl --sink csv:full.csv --state-memory 16MiB
  expect_contains "$err" "the local disk is full: spilling dedup state to $tmp/small-disk/tally-spill-"
  expect_contains "$err" "Free space on that disk"
  expect_eq "$(grep -c 'disk is full' "$err")" 1 "messages about the full disk"
  expect_missing full.csv
fi

finish
