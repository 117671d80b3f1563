# End-to-end: what `tally run` writes for a small hand-written stream that
# exercises every rule (duplicates, late records, each kind of invalid record,
# time zones near UTC midnight, blank lines), and the flags that change it.
# Usage: bash run_output_test.sh /abs/path/to/tally
source "$(dirname "$0")/lib.sh"

U1=11111111-1111-1111-1111-111111111111
U2=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
U2UP=AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE
U2MIX=AaAaAaAa-bBbB-cccc-DDDD-eeeeEEEEeeee
ev() { echo "e0000000-0000-4000-a000-0000000000$1"; }    # an event id
EV() { echo "E0000000-0000-4000-A000-0000000000$1"; }    # the same id in upper case
# rec EVENT USER NAME CREATED_AT_JSON: one record (CreatedAt as raw JSON).
rec() { printf '{"EventUUID":"%s","UserUUID":"%s","EventName":"%s","CreatedAt":%s}' "$1" "$2" "$3" "$4"; }

# The stream, one array element per line of the file; the comment says what
# each line is with the default lateness of 7 days.
lines=(
  "$(rec "$(ev 01)" $U1 open '"2024-03-10T10:00:00Z"')"                    # 1 counted U1 03-10
  "$(rec "$(ev 02)" $U1 open '"2024-03-10 23:59:59.9999999"')"             # 2 counted U1 03-10 (7th digit dropped, not rounded)
  "$(rec "$(ev 03)" $U1 open '"2024-03-11T00:00:00Z"')"                    # 3 counted U1 03-11
  ""                                                                       # 4 blank: not a record
  "$(rec "$(ev 01)" $U1 open '"2024-03-10T10:00:00Z"')"                    # 5 duplicate of 1
  "$(rec "$(EV 02)" $U1 open '"2024-03-10T23:59:59.999999Z"')"             # 6 duplicate of 2 (upper-case id)
  $' \t  \r'                                                               # 7 white space only: not a record
  "$(rec "$(ev 04)" $U2UP open '"2024-03-11T01:30:00+02:00"')"             # 8 counted U2 03-10 (23:30Z)
  "$(rec "$(ev 05)" $U2 open '"2024-03-10T22:30:00-0230"')"                # 9 counted U2 03-11 (01:00Z)
  "$(rec "$(ev 06)" $U2MIX open '1710115199.5')"                           # 10 counted U2 03-10 (23:59:59.5Z)
  "$(rec "$(ev 03)" $U2 open '"2024-03-11T00:00:00Z"')"                    # 11 duplicate of 3 (id only matters)
  "{\"EventUUID\":\"$(ev 07)\",\"CreatedAt\":\"junk\",\"UserUUID\":\"$U1\",\"EventName\":\"x\",\"CreatedAt\":\"2024-03-11T05:00:00Z\"}"  # 12 counted U1 03-11 (last CreatedAt wins)
  "{\"EventUUID\":\"$(ev 08)\",\"CreatedAt\":\"2024-03-11T05:00:00Z\",\"UserUUID\":\"$U1\",\"EventName\":\"x\",\"CreatedAt\":\"2024-03-11T25:00:00Z\"}"  # 13 bad_time (last CreatedAt wins)
  "{\"EventUUID\":\"$(ev 09)\",\"UserUUID\":"                              # 14 not_json: cut short
  "{\"EventUUID\":\"$(ev 09)\",\"UserUUID\":\"$U1\",\"EventName\":\"x\",\"CreatedAt\":\"2024-03-11T05:00:00Z\",}"  # 15 not_json: trailing comma
  "$(rec "$(ev 09)" $U1 x NaN)"                                            # 16 not_json: NaN
  '["not","an","object"]'                                                  # 17 not_object
  "{\"EventUUID\":\"$(ev 09)\",\"UserUUID\":\"$U1\",\"EventName\":\"x\"}"  # 18 missing_field
  "{\"EventUUID\":\"$(ev 09)\",\"UserUUID\":42,\"EventName\":\"x\",\"CreatedAt\":\"2024-03-11T05:00:00Z\"}"  # 19 wrong_type
  "$(rec e0000000-0000-4000-a000-00000000009 $U1 x '"2099-12-31T00:00:00Z"')"  # 20 bad_uuid (its far-future time must not move the watermark)
  "$(rec "$(ev 10)" $U1 "" '"2024-03-11T06:00:00Z"')"                      # 21 empty_event_name
  "$(rec "$(ev 09)" $U1 x '"2023-02-29T00:00:00Z"')"                       # 22 bad_time: not a leap year
  "$(rec "$(ev 09)" $U1 x '"2024-03-11T05:00:00+24:00"')"                  # 23 bad_time: zone hour 24
  "$(rec "$(ev 09)" $U1 x '"2100-01-01T00:00:00Z"')"                       # 24 time_out_of_range
  "$(rec "$(ev 09)" $U1 x '"1969-12-31T23:59:59Z"')"                       # 25 time_out_of_range
  "$(rec "$(ev 11)" $U1 $'caf\xe9' '"2024-03-11T07:00:00Z"')"              # 26 not_utf8 (Latin-1 e-acute)
  "$(rec "$(ev 12)" $U1 open '"2024-03-20T00:00:00Z"')"                    # 27 counted U1 03-20; watermark now 03-13T00:00Z
  "$(rec "$(ev 13)" $U1 open '"2024-03-12T23:59:59.999999Z"')"             # 28 late (1 us before the watermark)
  "$(rec "$(ev 14)" $U1 open '"2024-03-13T00:00:00Z"')"                    # 29 counted U1 03-13 (t == W is not late)
  "$(rec "$(ev 01)" $U1 open '"2024-03-10T10:00:00Z"')"                    # 30 late (not a duplicate: late goes first)
  "$(rec "$(EV 14)" $U1 open '"2024-03-14T08:00:00Z"')"                    # 31 duplicate of 29 (still remembered at t == W)
  "$(rec "$(ev 05)" $U2 open '"2024-03-15T00:00:00Z"')"                    # 32 counted U2 03-15 (line 9 is older than W: forgotten)
  "$(rec "$(ev 13)" $U1 open '"2024-03-16T00:00:00Z"')"                    # 33 counted U1 03-16 (line 28 was late, not counted)
  "$(rec "$(ev 10)" $U1 open '"2024-03-16T12:00:00Z"')"                    # 34 counted U1 03-16 (line 21 was invalid)
  "$(rec "$(ev 12)" $U1 open '"2024-03-25T00:00:00Z"')"                    # 35 duplicate of 27; moves the watermark to 03-18
  "$(rec "$(ev 16)" $U2 open '"2024-03-17T23:59:59Z"')"                    # 36 late, thanks to the duplicate's time
  "$(rec "$(ev 15)" $U2 open '"2024-03-19T12:00:00.123456789Z"')"          # 37 counted U2 03-19; no newline after it
)
expected_summary='{"records":35,"invalid":14,"late":3,"duplicates":5,"counted":13}'
expected_csv="$CLI_DATA_DIR/run_output.expected.csv"
expected_dead="$CLI_DATA_DIR/run_output.expected-dead-letters.txt"
header=user_uuid,created_date,event_count

input="$tmp/events.jsonl"
printf '%s\n' "${lines[@]:0:${#lines[@]}-1}" >"$input"
printf '%s' "${lines[-1]}" >>"$input"
expect_eq "$(wc -l <"$input")" 36 "newlines in the input (the last line has none)"

# --- The csv sink, default dead-letter path, summary, report ---------------------
mkdir "$tmp/a"
expect_exit 0 "$TALLY" run --source "file:$input" --sink "csv:$tmp/a/counts.csv" --summary "$tmp/a/summary.json"
expect_eq "$(head -n 1 "$tmp/a/counts.csv")" "$header" "csv header"
sorted_rows "$tmp/a/counts.csv" >"$tmp/a/rows"
expect_file_eq "$tmp/a/rows" "$expected_csv"
expect_eq "$(cat "$tmp/a/summary.json")" "$expected_summary" "summary"
expect_lines "$tmp/a/summary.json" 1
dead="$tmp/a/counts.csv.dead-letters.jsonl"
check "the default dead-letter file is <csv>.dead-letters.jsonl" test -f "$dead"
expect_lines "$dead" 17
if dead_letter_table "$dead" "$input" "file:$input" >"$tmp/a/dead.txt"; then pass; else fail "dead letters do not hold their records"; fi
expect_file_eq "$tmp/a/dead.txt" "$expected_dead"
# The non-UTF-8 record comes back byte for byte through base64 -d too.
grep '"line":26,' "$dead" | python3 -c 'import json,sys; print(json.load(sys.stdin)["record"])' | base64 -d >"$tmp/a/line26"
sed -n 26p "$input" | head -c -1 >"$tmp/a/input26"
expect_file_eq "$tmp/a/line26" "$tmp/a/input26"
expect_contains "$tmp/a/line26" $'caf\xe9'
expect_contains "$dead" '"reason":"late","detail":'
# The report on stderr: the five counts, the outputs by name.
expect_contains "$err" "read 35 records from file:$input"
expect_contains "$err" "13 counted"
expect_contains "$err" "5 duplicates"
expect_contains "$err" "3 late"
expect_contains "$err" "14 invalid"
expect_contains "$err" "csv:$tmp/a/counts.csv"
expect_contains "$err" "17 dead letters to file:$dead"
expect_contains "$err" "summary to $tmp/a/summary.json"
expect_eq "$(wc -c <"$out")" 0 "bytes on stdout with the csv sink"
expect_eq "$(ls "$tmp/a" | grep -c '\.tmp-')" 0 "temporary files left in the output directory"
expect_missing "$tmp/tally-dead-letters.jsonl"

# --- Standard input (a pipe) --------------------------------------------------------
mkdir "$tmp/b"
expect_exit 0 "$TALLY" run --source - --sink "csv:$tmp/b/counts.csv" \
  --dead-letter "file:$tmp/b/dead.jsonl" --summary "$tmp/b/summary.json" < <(cat "$input")  # a pipe
sorted_rows "$tmp/b/counts.csv" >"$tmp/b/rows"
expect_file_eq "$tmp/b/rows" "$expected_csv"
expect_eq "$(cat "$tmp/b/summary.json")" "$expected_summary" "summary from stdin"
if dead_letter_table "$tmp/b/dead.jsonl" "$input" stdin >"$tmp/b/dead.txt"; then pass; else fail "dead letters from stdin"; fi
expect_file_eq "$tmp/b/dead.txt" "$expected_dead"
expect_contains "$err" "from stdin"
expect_missing "$tmp/b/counts.csv.dead-letters.jsonl"

# --- The console sink ------------------------------------------------------------------
# A trigger interval far longer than the run: all rows are in the last (only) batch.
mkdir "$tmp/c" && cd "$tmp/c"
expect_exit 0 "$TALLY" run --source "file:$input" --sink console --trigger 1h
expect_eq "$(grep -c '^Batch: ' "$out")" 1 "batches printed"
expect_contains "$out" "Batch: 0"
expect_contains "$out" "|user_uuid                           |created_date|event_count|"
while IFS=, read -r user day count; do
  expect_contains "$out" "$(printf '|%s|%-12s|%11d|' "$user" "$day" "$count")"
done <"$expected_csv"
# ... in order of learner and day.
grep '^|[0-9a-f]\{8\}-' "$out" | tr -d ' ' | tr '|' ',' | sed 's/^,//; s/,$//' >"$tmp/c/rows"
expect_file_eq "$tmp/c/rows" "$expected_csv"
# The dead letters go to ./tally-dead-letters.jsonl, and the report says so.
expect_lines "$tmp/c/tally-dead-letters.jsonl" 17
expect_contains "$err" "dead letters to file:tally-dead-letters.jsonl"
expect_contains "$err" "to console"
# --console-rows caps the rows shown.
expect_exit 0 "$TALLY" run --source "file:$input" --sink console --trigger 1h --console-rows 3 \
  --dead-letter "file:$tmp/c/dead2.jsonl"
expect_eq "$(grep -c '^|[0-9a-f]\{8\}-' "$out")" 3 "rows shown with --console-rows 3"
expect_contains "$out" "only showing top 3 of 9 rows"
cd "$tmp"

# --- Field names -----------------------------------------------------------------------
# A stream whose fields are named id/user/name/ts; the default names, where present,
# hold junk and must be ignored.
renamed="$tmp/renamed.jsonl"
{
  printf '{"id":"%s","user":"%s","name":"a","ts":"2024-05-01T10:00:00Z","EventUUID":"junk"}\n' "$(ev 01)" $U1
  printf '{"id":"%s","user":"%s","name":"a","ts":"2024-05-01T11:00:00Z","CreatedAt":false}\n' "$(EV 01)" $U1
  printf '{"id":"%s","user":"%s","name":"b","ts":"2024-05-02T10:00:00Z"}\n' "$(ev 02)" $U2
  printf '{"id":"%s","user":"%s","name":"","ts":"2024-05-02T10:00:00Z"}\n' "$(ev 03)" $U2
} >"$renamed"
expect_exit 0 "$TALLY" run --source "file:$renamed" --sink "csv:$tmp/renamed.csv" --summary "$tmp/renamed.json" \
  --event-id-field id --user-id-field user --event-name-field name --created-at-field ts
expect_eq "$(cat "$tmp/renamed.json")" '{"records":4,"invalid":1,"late":0,"duplicates":1,"counted":2}' "summary with renamed fields"
expect_eq "$(sorted_rows "$tmp/renamed.csv" | tr '\n' ' ')" \
  "$U1,2024-05-01,1 $U2,2024-05-02,1 " "rows with renamed fields"
expect_contains "$tmp/renamed.csv.dead-letters.jsonl" '"reason":"empty_event_name","detail":"field name is empty"'
# Without the flags, every record lacks a field.
expect_exit 0 "$TALLY" run --source "file:$renamed" --sink "csv:$tmp/default-names.csv" --summary "$tmp/default-names.json"
expect_eq "$(cat "$tmp/default-names.json")" '{"records":4,"invalid":4,"late":0,"duplicates":0,"counted":0}' "summary with default field names"
expect_eq "$(grep -c '"reason":"missing_field"' "$tmp/default-names.csv.dead-letters.jsonl")" 4 "missing_field dead letters"
expect_eq "$(cat "$tmp/default-names.csv")" "$header" "csv with no counted record"

# --- Input time zone -----------------------------------------------------------------------
# 03:00 in India (UTC+05:30) is 21:30 UTC the day before; a time with a zone is unaffected.
tz_input="$tmp/tz.jsonl"
{
  rec "$(ev 01)" $U1 a '"2024-03-11 03:00:00"'; echo
  rec "$(ev 02)" $U1 a '"2024-03-11T05:29:59.999999"'; echo
  rec "$(ev 03)" $U2 a '"2024-03-11T03:00:00Z"'; echo
  rec "$(ev 04)" $U2 a '"2024-03-11T05:30:00"'; echo
} >"$tz_input"
expect_exit 0 "$TALLY" run --source "file:$tz_input" --sink "csv:$tmp/tz.csv" --input-timezone Asia/Calcutta
expect_eq "$(sorted_rows "$tmp/tz.csv" | tr '\n' ' ')" \
  "$U1,2024-03-10,2 $U2,2024-03-11,2 " "rows with --input-timezone Asia/Calcutta"
expect_exit 0 "$TALLY" run --source "file:$tz_input" --sink "csv:$tmp/tz-utc.csv"
expect_eq "$(sorted_rows "$tmp/tz-utc.csv" | tr '\n' ' ')" \
  "$U1,2024-03-11,2 $U2,2024-03-11,2 " "rows with the default input time zone (UTC)"
TALLY_INPUT_TIMEZONE=Asia/Calcutta expect_exit 0 "$TALLY" run --source "file:$tz_input" --sink "csv:$tmp/tz-env.csv"
# Rows come in no particular order: compare them sorted.
expect_eq "$(sorted_rows "$tmp/tz-env.csv")" "$(sorted_rows "$tmp/tz.csv")" "rows with TALLY_INPUT_TIMEZONE"

# --- Lateness: flag, environment variable, config file ------------------------------------------
late_input="$tmp/late.jsonl"
{
  rec "$(ev 01)" $U1 a '"2024-03-10T10:00:00Z"'; echo          # counted
  rec "$(ev 02)" $U1 a '"2024-03-10T08:59:59Z"'; echo          # 1h: late (W = 09:00)
  rec "$(ev 03)" $U1 a '"2024-03-10T09:00:00Z"'; echo          # counted: t == W
  rec "$(ev 01)" $U1 a '"2024-03-10T11:30:00Z"'; echo          # duplicate of the first (10:00 >= W)
  rec "$(ev 01)" $U1 a '"2024-03-10T12:00:00Z"'; echo          # 1h: counted (the first, 10:00 < W = 10:30, is forgotten)
} >"$late_input"
summary_1h='{"records":5,"invalid":0,"late":1,"duplicates":1,"counted":3}'
summary_7d='{"records":5,"invalid":0,"late":0,"duplicates":2,"counted":3}'
lateness_run() {  # lateness_run NAME [ARGS...]: a run over $late_input; its summary on stdout
  local name=$1
  shift
  expect_exit 0 "$TALLY" run --source "file:$late_input" --sink "csv:$tmp/$name.csv" --summary "$tmp/$name.json" "$@"
}
lateness_run default
expect_eq "$(cat "$tmp/default.json")" "$summary_7d" "summary with the default lateness (7d)"
lateness_run flag --lateness 1h
expect_eq "$(cat "$tmp/flag.json")" "$summary_1h" "summary with --lateness 1h"
expect_eq "$(cat "$tmp/flag.csv.dead-letters.jsonl" | grep -c '"reason":"late"')" 1 "late dead letters with --lateness 1h"
expect_contains "$tmp/flag.csv.dead-letters.jsonl" '"line":2,'
expect_eq "$(sorted_rows "$tmp/flag.csv")" "$U1,2024-03-10,3" "rows with --lateness 1h"
TALLY_LATENESS=1h lateness_run env
expect_eq "$(cat "$tmp/env.json")" "$summary_1h" "summary with TALLY_LATENESS=1h"
expect_file_eq "$tmp/env.csv.dead-letters.jsonl" "$tmp/flag.csv.dead-letters.jsonl"
printf '# tally settings\nlateness = "1h"\n' >"$tmp/tally.toml"
lateness_run config --config "$tmp/tally.toml"
expect_eq "$(cat "$tmp/config.json")" "$summary_1h" "summary with lateness = \"1h\" in --config"
expect_file_eq "$tmp/config.csv.dead-letters.jsonl" "$tmp/flag.csv.dead-letters.jsonl"
TALLY_CONFIG="$tmp/tally.toml" lateness_run config-env
expect_eq "$(cat "$tmp/config-env.json")" "$summary_1h" "summary with TALLY_CONFIG naming the config file"
# Precedence: the command line over the environment over the config file.
TALLY_LATENESS=1h lateness_run flag-over-env --lateness 7d
expect_eq "$(cat "$tmp/flag-over-env.json")" "$summary_7d" "--lateness 7d over TALLY_LATENESS=1h"
TALLY_LATENESS=7d lateness_run env-over-config --config "$tmp/tally.toml"
expect_eq "$(cat "$tmp/env-over-config.json")" "$summary_7d" "TALLY_LATENESS=7d over the config file's 1h"
# Other flags in the same config file, by their names without dashes.
printf 'lateness = "1h"\nsummary = "%s"\nsink = "csv:%s"\n' "$tmp/cfg-all.json" "$tmp/cfg-all.csv" >"$tmp/all.toml"
expect_exit 0 "$TALLY" run --source "file:$late_input" --config "$tmp/all.toml"
expect_eq "$(cat "$tmp/cfg-all.json" 2>/dev/null)" "$summary_1h" "summary and sink paths from the config file"
expect_file_eq "$tmp/cfg-all.csv" "$tmp/flag.csv"

# --- --max-record-bytes ------------------------------------------------------------------------
size_input="$tmp/size.jsonl"
rec "$(ev 01)" $U1 a '"2024-03-10T10:00:00Z"' >"$size_input"
echo >>"$size_input"
rec "$(ev 02)" $U1 aa '"2024-03-10T10:00:00Z"' >>"$size_input"
echo >>"$size_input"
n=$(head -n 1 "$size_input" | tr -d '\n' | wc -c)    # the first record's size; the second is 1 byte longer
expect_exit 0 "$TALLY" run --source "file:$size_input" --sink "csv:$tmp/size.csv" --summary "$tmp/size.json" --max-record-bytes "$n"
expect_eq "$(cat "$tmp/size.json")" '{"records":2,"invalid":1,"late":0,"duplicates":0,"counted":1}' "summary with --max-record-bytes $n"
expect_contains "$tmp/size.csv.dead-letters.jsonl" '"reason":"too_large"'
expect_contains "$tmp/size.csv.dead-letters.jsonl" "\"line\":2,"
expect_contains "$tmp/size.csv.dead-letters.jsonl" "$((n + 1)) bytes"
if dead_letter_table "$tmp/size.csv.dead-letters.jsonl" "$size_input" "file:$size_input" >/dev/null; then pass; else
  fail "the too_large dead letter holds its record"
fi
expect_contains "$err" "too_large 1"
expect_exit 0 "$TALLY" run --source "file:$size_input" --sink "csv:$tmp/size2.csv" --summary "$tmp/size2.json" --max-record-bytes "$((n + 1))"
expect_eq "$(cat "$tmp/size2.json")" '{"records":2,"invalid":0,"late":0,"duplicates":0,"counted":2}' "summary with --max-record-bytes $((n + 1))"
TALLY_MAX_RECORD_BYTES=$((n - 1)) expect_exit 0 "$TALLY" run --source "file:$size_input" --sink "csv:$tmp/size3.csv" --summary "$tmp/size3.json"
expect_eq "$(cat "$tmp/size3.json")" '{"records":2,"invalid":2,"late":0,"duplicates":0,"counted":0}' "summary with TALLY_MAX_RECORD_BYTES=$((n - 1))"

finish
