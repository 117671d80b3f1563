# Shared helpers of the end-to-end tests under test/cli (sourced, not a test).
#
# A test script is run as `bash script.sh /abs/path/to/tally`. It sources this
# file, which:
#   - sets $TALLY to the binary (made absolute) and checks it is executable;
#   - makes a fresh temporary directory $tmp, removed by an EXIT trap, and cd's
#     into it (so a default ./tally-dead-letters.jsonl lands there too);
#   - counts checks: every expect_* records one pass or one failure;
#   - on exit prints exactly one line "N passed, M failed" and exits 1 if any
#     check failed, or if the script died before calling `finish`.
#
# expect_exit runs a command with stdout and stderr captured in $tmp/stdout and
# $tmp/stderr (also available as $out and $err) for later assertions.

set -u -o pipefail

if [[ $# -lt 1 || -z "$1" ]]; then
  echo "usage: bash $0 /path/to/tally" >&2
  exit 2
fi
TALLY=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if [[ ! -x "$TALLY" ]]; then
  echo "not an executable: $TALLY" >&2
  exit 2
fi
export TALLY

# Paths of the repository, for data files.
CLI_TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLI_DATA_DIR=$(cd "$CLI_TEST_DIR/../data/cli" 2>/dev/null && pwd || true)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tally-cli-test.XXXXXX")
out="$tmp/stdout"
err="$tmp/stderr"
passed=0
failed=0
finished=0
last_rc=0

# A flag or environment variable from the caller must not change the tests.
while IFS='=' read -r name _; do
  case "$name" in TALLY_*) unset "$name" ;; esac
done < <(env)

_on_exit() {
  local rc=$?
  cd / && rm -rf "$tmp"
  if [[ $finished -eq 0 ]]; then
    echo "FAIL: the script stopped early (exit status $rc) after $passed passed, $failed failed" >&2
    echo "$passed passed, $((failed + 1)) failed"
    exit 1
  fi
}
trap _on_exit EXIT
cd "$tmp" || exit 1

pass() { passed=$((passed + 1)); }

# _failed MESSAGE: counts a failure and reports it with the line of the test
# script's top-level statement that led to it (and the helper's line, if any).
_failed() {
  failed=$((failed + 1))
  local top=$((${#BASH_LINENO[@]} - 2)) where
  where="${BASH_SOURCE[top + 1]##*/}:${BASH_LINENO[top]}"
  if ((top > 1)); then where+=", via line ${BASH_LINENO[1]}"; fi
  echo "FAIL ($where): $*" >&2
}

# fail MESSAGE: records a failed check.
fail() { _failed "$@"; }

# check NAME COMMAND...: passes if the command succeeds.
check() {
  local name=$1
  shift
  if "$@"; then pass; else
    _failed "$name" >&2
  fi
}

# expect_eq ACTUAL EXPECTED [WHAT]
expect_eq() {
  if [[ "$1" == "$2" ]]; then pass; else
    _failed "${3:-value}: expected [$2], got [$1]" >&2
  fi
}

# await WHAT SECONDS COMMAND...: runs COMMAND every half second until it
# succeeds (one passed check); fails the check WHAT if it never does within
# SECONDS. Returns 1 then.
await() {
  local what=$1 seconds=$2 deadline
  shift 2
  deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    if "$@"; then
      # TEST_TIMING=1 shows where a slow test spends its time.
      [[ -n ${TEST_TIMING:-} ]] && echo "  [${SECONDS}s] $what" >&2
      pass
      return 0
    fi
    sleep 0.5
  done
  fail "$what: not within ${seconds}s"
  return 1
}

# ended PID: the process has exited.
ended() { ! kill -0 "$1" 2>/dev/null; }

# expect_exit CODE COMMAND...: runs the command (stdin untouched), captures its
# output in $out and $err, and checks its exit status.
expect_exit() {
  local want=$1
  shift
  "$@" >"$out" 2>"$err"
  last_rc=$?
  if [[ $last_rc -eq $want ]]; then pass; else
    _failed "exit status of [$*]: expected $want, got $last_rc" >&2
    echo "  stderr: $(head -c 2000 "$err")" >&2
  fi
}

# expect_contains FILE TEXT: FILE contains TEXT (a fixed string).
expect_contains() {
  if [[ -f "$1" ]] && grep -qF -- "$2" "$1"; then pass; else
    _failed "${1##*/} does not contain [$2]" >&2
    [[ -f "$1" ]] && echo "  it holds: $(head -c 2000 "$1")" >&2
  fi
}

# expect_not_contains FILE TEXT
expect_not_contains() {
  if [[ -f "$1" ]] && ! grep -qF -- "$2" "$1"; then pass; else
    _failed "${1##*/} contains [$2] (or is missing)" >&2
  fi
}

# expect_file_eq ACTUAL_FILE EXPECTED_FILE: byte-for-byte equal (diff on failure).
expect_file_eq() {
  if [[ -f "$1" ]] && cmp -s "$1" "$2"; then pass; else
    _failed "${1##*/} differs from ${2##*/}" >&2
    diff "$2" "$1" 2>&1 | head -40 >&2
  fi
}

# expect_lines FILE N: FILE has exactly N lines.
expect_lines() {
  local n
  n=$(wc -l <"$1" 2>/dev/null || echo missing)
  expect_eq "$n" "$2" "line count of ${1##*/}"
}

# expect_missing PATH...: none of the paths exists.
expect_missing() {
  local p
  for p in "$@"; do
    if [[ -e "$p" ]]; then
      _failed "$p exists but should not" >&2
    else
      pass
    fi
  done
}

# sorted_rows CSV: the data rows of a csv output, sorted (header dropped).
sorted_rows() { tail -n +2 "$1" | LC_ALL=C sort; }

# dead_letter_table DEAD_LETTERS INPUT SOURCE_NAME: checks every dead letter of
# a run over the JSON-lines file INPUT (its keys, in the documented order; its
# source, partition 0, a non-empty detail; its record, decoded per its encoding,
# equal to the exact bytes of line `line` of INPUT, or to their first 1024 for a
# too_large one) and prints one line per dead
# letter: "LINE REASON ENCODING". Exits non-zero, saying why on stderr, if a
# check fails.
dead_letter_table() {
  python3 - "$@" <<'PY'
import base64, json, sys
dead_path, input_path, source = sys.argv[1:4]
lines = open(input_path, 'rb').read().split(b'\n')
keys = ['reason', 'detail', 'source', 'partition', 'line', 'encoding', 'record']
ok = True
def bad(n, why):
    global ok
    ok = False
    print(f'dead letter {n}: {why}', file=sys.stderr)
with open(dead_path, 'rb') as f:
    for n, raw in enumerate(f, 1):
        if not raw.endswith(b'\n'):
            bad(n, 'no newline at the end')
        try:
            d = json.loads(raw)
        except ValueError as e:
            bad(n, f'not JSON: {e}')
            continue
        if list(d) != keys:
            bad(n, f'keys {list(d)}')
            continue
        if d['source'] != source: bad(n, f'source {d["source"]!r}, expected {source!r}')
        if d['partition'] != 0: bad(n, f'partition {d["partition"]}')
        if not isinstance(d['detail'], str) or not d['detail']: bad(n, 'empty detail')
        line = d['line']
        if not isinstance(line, int) or not 1 <= line <= len(lines):
            bad(n, f'line {line!r} is not a line of the input')
            continue
        if d['encoding'] == 'utf8':
            record = d['record'].encode('utf-8')
        elif d['encoding'] == 'base64':
            record = base64.b64decode(d['record'], validate=True)
        else:
            bad(n, f'encoding {d["encoding"]!r}')
            continue
        want = lines[line - 1]
        if d['reason'] == 'too_large':
            want = want[:1024]  # a too_large letter keeps the record's first 1024 bytes
        if record != want:
            bad(n, f'record of line {line} differs from the input ({len(record)} bytes vs {len(want)})')
        print(line, d['reason'], d['encoding'])
sys.exit(0 if ok else 1)
PY
}

# finish: prints the closing line; exits 1 if any check failed.
finish() {
  finished=1
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]] || exit 1
  exit 0
}
