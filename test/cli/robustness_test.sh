# End-to-end: inputs that are not what tally expects. Garbage, a 60 MB line, blank
# and empty files, NUL bytes and CRLF line ends must neither crash nor stop the
# run: every record is either counted or a dead letter with its exact bytes (a
# too_large one with its first 1024 bytes and its size).
# Usage: bash robustness_test.sh /abs/path/to/tally
source "$(dirname "$0")/lib.sh"

U1=11111111-1111-1111-1111-111111111111
U2=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
ev() { echo "e0000000-0000-4000-a000-0000000000$1"; }
rec() { printf '{"EventUUID":"%s","UserUUID":"%s","EventName":"%s","CreatedAt":%s}' "$1" "$2" "$3" "$4"; }
header=user_uuid,created_date,event_count

# run_file NAME [ARGS...]: `tally run` over $tmp/NAME.jsonl with the csv, dead
# letters and summary at $tmp/NAME.{csv,dead.jsonl,json}; expects exit 0.
run_file() {
  local name=$1
  shift
  expect_exit 0 "$TALLY" run --source "file:$tmp/$name.jsonl" --sink "csv:$tmp/$name.csv" \
    --dead-letter "file:$tmp/$name.dead.jsonl" --summary "$tmp/$name.json" "$@"
}
# summary_field NAME FIELD
summary_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$tmp/$1.json" "$2" 2>/dev/null; }
# records_in FILE: how many records a file holds (lines with anything but white space).
records_in() {
  python3 -c 'import sys; print(sum(1 for l in open(sys.argv[1], "rb").read().split(b"\n") if l.strip(b" \t\r")))' "$1"
}
# expect_dead_letters NAME: every dead letter of run NAME holds its line's exact bytes.
expect_dead_letters() {
  if dead_letter_table "$tmp/$1.dead.jsonl" "$tmp/$1.jsonl" "file:$tmp/$1.jsonl" >"$tmp/$1.dead.txt"; then pass; else
    fail "the dead letters of $1 do not hold their records"
  fi
}

# --- 1 MiB of pseudo-random bytes -------------------------------------------------------
python3 -c 'import random, sys; random.seed(1); sys.stdout.buffer.write(random.randbytes(1 << 20))' >"$tmp/garbage.jsonl"
expect_eq "$(wc -c <"$tmp/garbage.jsonl")" 1048576 "size of the garbage input"
run_file garbage
records=$(records_in "$tmp/garbage.jsonl")
check "the garbage holds thousands of records" test "$records" -gt 1000
expect_eq "$(summary_field garbage records)" "$records" "records read from the garbage"
expect_eq "$(summary_field garbage invalid)" "$records" "invalid records in the garbage"
expect_eq "$(cat "$tmp/garbage.json")" "{\"records\":$records,\"invalid\":$records,\"late\":0,\"duplicates\":0,\"counted\":0}" "summary of the garbage"
expect_lines "$tmp/garbage.dead.jsonl" "$records"
expect_dead_letters garbage
expect_contains "$tmp/garbage.dead.txt" " not_utf8 base64"
expect_contains "$tmp/garbage.dead.txt" " not_json utf8"
expect_eq "$(cat "$tmp/garbage.csv")" "$header" "csv of the garbage"

# --- A 60 MB line among valid ones -----------------------------------------------------------
# Its padding is base64 of random bytes: no two megabytes alike, so a lost or
# repeated piece shows in the checksum.
{
  rec "$(ev 01)" $U1 a '"2024-03-10T10:00:00Z"'; echo
  printf '{"EventUUID":"%s","UserUUID":"%s","EventName":"big","CreatedAt":"2024-03-10T11:00:00Z","Padding":"' "$(ev 02)" $U1
  python3 -c 'import base64, random, sys; random.seed(2); sys.stdout.buffer.write(base64.b64encode(random.randbytes(45_000_000)))'
  printf '"}\n'
  rec "$(ev 03)" $U1 a '"2024-03-10T12:00:00Z"'; echo
  rec "$(ev 04)" $U2 a '"2024-03-11T00:00:00Z"'
} >"$tmp/big.jsonl"
big_bytes=$(sed -n 2p "$tmp/big.jsonl" | head -c -1 | wc -c)
check "the big line is over 60 MB" test "$big_bytes" -gt 60000000
run_file big
expect_eq "$(cat "$tmp/big.json")" '{"records":4,"invalid":1,"late":0,"duplicates":0,"counted":3}' "summary with a 60 MB line"
expect_eq "$(sorted_rows "$tmp/big.csv" | tr '\n' ' ')" "$U1,2024-03-10,2 $U2,2024-03-11,1 " "rows around the 60 MB line"
expect_lines "$tmp/big.dead.jsonl" 1
expect_contains "$tmp/big.dead.jsonl" "{\"reason\":\"too_large\",\"detail\":\"record is $big_bytes bytes, over the limit of 1048576 (--max-record-bytes); its first 1024 bytes are kept\""
expect_contains "$tmp/big.dead.jsonl" '"line":2,"encoding":"utf8","record":"{\"EventUUID\":'
# Its record is the line's first 1024 bytes (the line is read past in constant memory).
want_sum=$(sed -n 2p "$tmp/big.jsonl" | head -c 1024 | sha256sum | cut -d' ' -f1)
got_sum=$(python3 -c 'import json, sys; sys.stdout.buffer.write(json.loads(open(sys.argv[1], "rb").read())["record"].encode())' \
  "$tmp/big.dead.jsonl" | sha256sum | cut -d' ' -f1)
expect_eq "$got_sum" "$want_sum" "sha256 of the 60 MB dead letter's record"
expect_dead_letters big
expect_contains "$err" "too_large 1"
rm -f "$tmp"/big.*

# --- Only blank lines; an empty file -------------------------------------------------------------
printf '\n\n   \n\t\n\r\n \t \r\n\n  ' >"$tmp/blank.jsonl"
run_file blank
expect_eq "$(cat "$tmp/blank.json")" '{"records":0,"invalid":0,"late":0,"duplicates":0,"counted":0}' "summary of blank lines"
expect_eq "$(cat "$tmp/blank.csv")" "$header" "csv of blank lines"
check "the dead-letter file of blank lines exists" test -f "$tmp/blank.dead.jsonl"
expect_eq "$(wc -c <"$tmp/blank.dead.jsonl")" 0 "bytes of dead letters of blank lines"
expect_contains "$err" "read 0 records"

: >"$tmp/empty.jsonl"
run_file empty
expect_eq "$(cat "$tmp/empty.json")" '{"records":0,"invalid":0,"late":0,"duplicates":0,"counted":0}' "summary of an empty file"
expect_eq "$(cat "$tmp/empty.csv")" "$header" "csv of an empty file"
expect_eq "$(wc -c <"$tmp/empty.dead.jsonl")" 0 "bytes of dead letters of an empty file"
# ... and from an empty standard input.
expect_exit 0 "$TALLY" run --source - --sink "csv:$tmp/empty-stdin.csv" --dead-letter "file:$tmp/empty-stdin.dead.jsonl" \
  --summary "$tmp/empty-stdin.json" </dev/null
expect_eq "$(cat "$tmp/empty-stdin.json")" '{"records":0,"invalid":0,"late":0,"duplicates":0,"counted":0}' "summary of empty stdin"
expect_eq "$(cat "$tmp/empty-stdin.csv")" "$header" "csv of empty stdin"

# --- NUL bytes ------------------------------------------------------------------------------------------
# NUL is UTF-8 but never JSON: not white space, and not allowed raw in a string.
{
  printf '\0\n'                                                                      # 1
  printf '{"EventUUID":"%s","UserUUID":"%s","EventName":"a\0b","CreatedAt":"2024-03-10T10:00:00Z"}\n' "$(ev 01)" $U1  # 2 raw NUL in a string
  printf '{"EventUUID":"%s",\0"UserUUID":"%s","EventName":"a","CreatedAt":"2024-03-10T10:00:00Z"}\n' "$(ev 02)" $U1  # 3 NUL between tokens
  rec "$(ev 03)" $U1 a '"2024-03-10T10:00:00Z"'; printf '\0\n'                       # 4 NUL after the object
  printf '\0'; rec "$(ev 04)" $U1 a '"2024-03-10T10:00:00Z"'; echo                   # 5 NUL before the object
  printf '{"EventUUID":"%s","UserUUID":"%s","EventName":"a\\u0000b","CreatedAt":"2024-03-10T10:00:00Z"}\n' "$(ev 05)" $U1  # 6 valid: an escaped NUL
  printf '\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\n'  # 7
  rec "$(ev 06)" $U1 a '"2024-03-10T10:00:00Z"'                                      # 8 valid, no newline
} >"$tmp/nul.jsonl"
run_file nul
expect_eq "$(cat "$tmp/nul.json")" '{"records":8,"invalid":6,"late":0,"duplicates":0,"counted":2}' "summary with NUL bytes"
expect_eq "$(sorted_rows "$tmp/nul.csv")" "$U1,2024-03-10,2" "rows with NUL bytes"
expect_dead_letters nul
expect_eq "$(tr '\n' ' ' <"$tmp/nul.dead.txt")" \
  "1 not_json utf8 2 not_json utf8 3 not_json utf8 4 not_json utf8 5 not_json utf8 7 not_json utf8 " "dead letters with NUL bytes"
expect_contains "$tmp/nul.dead.jsonl" '"record":"\u0000"}'

# --- CRLF line ends -----------------------------------------------------------------------------------------
{
  rec "$(ev 01)" $U1 a '"2024-03-10T10:00:00Z"'; printf '\r\n'
  printf '\r\n'                                              # a blank line: not a record
  rec "$(ev 02)" $U1 a '"2024-03-10T23:59:59Z"'; printf '\r\n'
  rec "$(ev 01)" $U1 a '"2024-03-10T10:00:00Z"'; printf '\r\n'   # duplicate
  rec oops $U1 a '"2024-03-10T10:00:00Z"'; printf '\r\n'       # invalid: its \r is kept in the dead letter
  rec "$(ev 03)" $U2 a '"2024-03-11T00:00:00Z"'; printf '\r\n'
} >"$tmp/crlf.jsonl"
run_file crlf
expect_eq "$(cat "$tmp/crlf.json")" '{"records":5,"invalid":1,"late":0,"duplicates":1,"counted":3}' "summary with CRLF line ends"
expect_eq "$(sorted_rows "$tmp/crlf.csv" | tr '\n' ' ')" "$U1,2024-03-10,2 $U2,2024-03-11,1 " "rows with CRLF line ends"
expect_dead_letters crlf
expect_eq "$(cat "$tmp/crlf.dead.txt")" "5 bad_uuid utf8" "dead letters with CRLF line ends"
expect_contains "$tmp/crlf.dead.jsonl" '"record":"{\"EventUUID\":\"oops\",'
expect_contains "$tmp/crlf.dead.jsonl" '\"CreatedAt\":\"2024-03-10T10:00:00Z\"}\r"}'
# The csv is written with plain \n line ends whatever the input's.
expect_eq "$(grep -c $'\r' "$tmp/crlf.csv")" 0 "CRs in the csv"


# --- a crash says where ------------------------------------------------------------------------------------
# A fatal signal prints the stack, removes the temporary files, and ends the
# process by that signal. (A sanitizer build reports crashes its own way.)
if ! grep -q __asan_init "$TALLY"; then
  mkfifo "$tmp/crash.in"
  "$TALLY" run --source - --sink "csv:$tmp/crash.csv" --dead-letter "file:$tmp/crash.dead.jsonl" \
    <"$tmp/crash.in" 2>"$tmp/crash.err" &
  crash_pid=$!
  exec 7>"$tmp/crash.in"  # the writer: the run waits on its standard input
  for _ in $(seq 1 200); do
    [[ -e "$tmp/crash.csv.tmp-$crash_pid" ]] && break
    sleep 0.05
  done
  expect_eq "$(ls "$tmp" | grep -c "crash.csv.tmp-$crash_pid")" 1 "temporary csv while the run waits"
  kill -SEGV "$crash_pid"
  wait "$crash_pid"
  expect_eq $? 139 "exit status after SIGSEGV"
  exec 7>&-
  expect_contains "$tmp/crash.err" "tally: crashed with signal SEGV"
  expect_eq "$(ls "$tmp" | grep -c "crash.*tmp-")" 0 "temporary files left by the crash"
fi

finish
