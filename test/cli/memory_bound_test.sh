# End-to-end: memory stays within a bound whatever the input (docs/operations.md,
# "Memory"). A line over --max-record-bytes is read past in constant memory and
# becomes one too_large dead letter with its first 1024 bytes and its size;
# batches are bounded in records and bytes, so many tiny invalid lines after a
# huge one do not become one giant batch of dead letters. Peak memory (the
# process's maximum resident set size) is checked against 200 MB, far above
# what tally needs for these inputs (about 25 MB) and far below what it took
# before (300 MB of zeros: bad_alloc; a 70 MB line and tiny lines: gigabytes).
# Usage: bash memory_bound_test.sh /abs/path/to/tally
# ctest: scenario (peak-memory bounds, which a sanitizer build would not keep)
source "$(dirname "$0")/lib.sh"

BOUND_KB=$((200 * 1024))
# Under AddressSanitizer the resident set measures its shadow memory and
# quarantine, not tally's: the memory checks are for a plain build.
sanitized=0
if grep -q __asan_init "$TALLY"; then sanitized=1; fi  # linked with ASan's runtime

# measured RSS_FILE COMMAND...: runs COMMAND (stdin untouched), writes its peak
# resident set size in KiB to RSS_FILE, and exits with its status (128 + N for
# signal N). Its address space is capped at 2 GiB (tally needs under 50 MiB),
# so a regression fails here instead of taking the machine's memory.
measured() {
  python3 -c '
import resource, subprocess, sys
limit = None if sys.argv[2] == "1" else 2 << 30
def cap():
    if limit: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
rc = subprocess.run(sys.argv[3:], preexec_fn=cap).returncode
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc if rc >= 0 else 128 - rc)' "$1" "$sanitized" "${@:2}"
}
# expect_peak_below RSS_FILE WHAT
expect_peak_below() {
  [[ $sanitized -eq 1 ]] && return
  local kb
  kb=$(cat "$1" 2>/dev/null || echo missing)
  if [[ "$kb" =~ ^[0-9]+$ ]] && ((kb < BOUND_KB)); then pass; else
    fail "peak memory of $2: ${kb} KiB, bound ${BOUND_KB} KiB"
  fi
}
# summary_of FILE FIELD
summary_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2" 2>/dev/null; }

# --- 300 MB of zeros on standard input: one endless line ------------------------------------
expect_exit 0 measured "$tmp/zero.rss" "$TALLY" run --source - --sink "csv:$tmp/zero.csv" \
  --dead-letter "file:$tmp/zero.dead.jsonl" --summary "$tmp/zero.json" < <(head -c 300M /dev/zero)
expect_peak_below "$tmp/zero.rss" "300 MB of zeros"
expect_eq "$(cat "$tmp/zero.json" 2>/dev/null)" '{"records":1,"invalid":1,"late":0,"duplicates":0,"counted":0}' \
  "summary of 300 MB of zeros"
expect_lines "$tmp/zero.dead.jsonl" 1
expect_contains "$tmp/zero.dead.jsonl" '{"reason":"too_large","detail":"record is 314572800 bytes, over the limit of 1048576 (--max-record-bytes); its first 1024 bytes are kept","source":"stdin","partition":0,"line":1,"encoding":"utf8","record":"'
expect_eq "$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).read())["record"]; print(len(r), set(r) == {"\0"})' \
  "$tmp/zero.dead.jsonl" 2>/dev/null)" "1024 True" "record of the zeros' dead letter"

# --- file:/dev/zero itself never ends: stopped after a while, it has stayed flat -------------
measured "$tmp/devzero.rss" timeout -s TERM 3 "$TALLY" run --source file:/dev/zero --sink "csv:$tmp/devzero.csv" \
  --dead-letter "file:$tmp/devzero.dead.jsonl" >"$out" 2>"$err"
rc=$?
check "file:/dev/zero ran until stopped (exit $rc: not killed, not out of memory)" test "$rc" -eq 124
expect_not_contains "$err" "bad_alloc"
expect_peak_below "$tmp/devzero.rss" "file:/dev/zero for 3 s"

# --- A 70 MB line, then tiny invalid lines, then a generated stream ---------------------------
# The same stream without the huge line is the reference: every other record
# has the same fate, one line further down.
"$TALLY" generate --events 200000 --learners 500 --days 10 --invalid-ratio 0.02 --output "$tmp/events.jsonl" 2>/dev/null
python3 - "$tmp" <<'PY'
import sys
tmp = sys.argv[1]
events = open(f"{tmp}/events.jsonl", "rb").read()
rest = b"x\n" * 500_000 + events
open(f"{tmp}/rest.jsonl", "wb").write(rest)
with open(f"{tmp}/huge.jsonl", "wb") as f:
    head = b'{"EventUUID":"e0000000-0000-4000-a000-000000000001","Padding":"'
    body = bytes(range(ord("a"), ord("z") + 1)) * (70_000_000 // 26)
    f.write(head + body + b'"}\n' + rest)
PY
huge_bytes=$(head -n 1 "$tmp/huge.jsonl" | head -c -1 | wc -c)
check "the huge line is 70 MB" test "$huge_bytes" -gt 70000000
run_both() {
  local name
  for name in rest huge; do
    expect_exit 0 measured "$tmp/$name.rss" "$TALLY" run --source "file:$tmp/$name.jsonl" --sink "csv:$tmp/$name.csv" \
      --dead-letter "file:$tmp/$name.dead.jsonl" --summary "$tmp/$name.json"
  done
}
run_both
expect_peak_below "$tmp/huge.rss" "a 70 MB line and 500,000 tiny lines"
expect_peak_below "$tmp/rest.rss" "500,000 tiny lines"
for field in records invalid; do
  expect_eq "$(summary_of "$tmp/huge.json" $field)" "$(($(summary_of "$tmp/rest.json" $field) + 1))" "$field with the huge line"
done
for field in late duplicates counted; do
  expect_eq "$(summary_of "$tmp/huge.json" $field)" "$(summary_of "$tmp/rest.json" $field)" "$field with the huge line"
done
check "the generated stream has counted records" test "$(summary_of "$tmp/rest.json" counted)" -gt 100000
expect_eq "$(sorted_rows "$tmp/huge.csv" | sha256sum)" "$(sorted_rows "$tmp/rest.csv" | sha256sum)" "table with and without the huge line"
# The huge line's dead letter: its reason, size and first 1024 bytes.
expect_eq "$(head -n 1 "$tmp/huge.dead.jsonl" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["reason"], d["line"], d["detail"])')" \
  "too_large 1 record is $huge_bytes bytes, over the limit of 1048576 (--max-record-bytes); its first 1024 bytes are kept" \
  "the huge line's dead letter"
expect_eq "$(head -n 1 "$tmp/huge.dead.jsonl" | python3 -c 'import json,sys; sys.stdout.write(json.loads(sys.stdin.read())["record"])' | sha256sum)" \
  "$(head -c 1024 "$tmp/huge.jsonl" | sha256sum)" "the huge line's first 1024 bytes in its dead letter"
# Every other dead letter is the reference's, one line further down.
python3 - "$tmp/rest.dead.jsonl" "$tmp/huge.dead.jsonl" >"$tmp/shift.txt" <<'PY'
import json, sys
def letters(path):
    return [json.loads(l) for l in open(path, encoding="utf-8")]
rest, huge = letters(sys.argv[1]), letters(sys.argv[2])[1:]
ok = len(rest) == len(huge) and all(
    a["line"] + 1 == b["line"] and (a["reason"], a["record"]) == (b["reason"], b["record"]) for a, b in zip(rest, huge))
print(len(rest), ok)
PY
expect_eq "$(cat "$tmp/shift.txt")" "$(($(summary_of "$tmp/rest.json" invalid) + $(summary_of "$tmp/rest.json" late))) True" \
  "the other dead letters, one line further down"

finish
