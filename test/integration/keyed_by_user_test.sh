#!/usr/bin/env bash
# --input-keyed-by-user against the real local broker (127.0.0.1:9092):
#   1. a 3-partition topic whose producer keys each record by its UserUUID
#      (tally produce, which keys by the lower-cased UserUUID, so that every
#      learner is in one partition), with some records keyed wrong
#      (kafka-console-producer, parse.key): another learner's UUID, a key
#      that is not a UUID, and no key at all (tally produce --key-field "").
#      An --available-now run counts exactly what a file run of the rightly
#      keyed records counts (csv row by row, and the summary but for the
#      wrong-key records, which are invalid); the dead-letter topic holds
#      exactly the wrong-key records, each with reason wrong_key;
#   2. a partition added to the topic while a job runs stops the job: exit
#      non-zero, with a message naming the topic and both partition counts.
# Every tally and JVM started here is bounded by `timeout` and killed on exit.
# Usage: bash keyed_by_user_test.sh /path/to/tally
stack=$(cd "$(dirname "$0")/../.." && pwd)/scripts/local-stack  # before lib.sh moves to a temporary directory
source "$(dirname "$0")/../cli/lib.sh"

id="$$_$(date +%s)"
kafka="kafka://127.0.0.1:9092"
topic="keyed_$id"
group="keyed_$id"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # The input, its dead letters and the changelog (GROUP-TOPIC-changelog),
  # all named keyed_$id...: one call (a JVM start) for the three.
  "$stack" kafka-topics --delete --topic "keyed_$id.*" >/dev/null 2>&1 || true
}
trap 'cleanup; _on_exit' EXIT


# ---- the stream: right keys, wrong keys, no keys ---------------------------
# Three days and no late records: nothing is near the lateness boundary, so
# how the partitions interleave decides nothing.
expect_exit 0 "$TALLY" generate --events 6000 --learners 300 --days 3 --seed 11 --duplicate-ratio 0.05 \
  --late-ratio 0 --invalid-ratio 0 --output events.jsonl
python3 - <<'PY'
import json
other = '99999999-9999-4999-8999-999999999999'  # no learner of the stream
with open('events.jsonl') as f, open('good.jsonl', 'w') as good, open('miskeyed.tsv', 'w') as miskeyed, \
     open('unkeyed.jsonl', 'w') as unkeyed, open('wrong.jsonl', 'w') as wrong:
    for i, line in enumerate(f, 1):
        line = line.rstrip('\n')
        user = json.loads(line)['UserUUID'].lower()
        if i % 100 == 7:
            miskeyed.write(f'{other}\t{line}\n')
        elif i % 100 == 41:
            miskeyed.write(f'learner-{user}\t{line}\n')
        elif i % 100 == 73:
            unkeyed.write(line + '\n')
        else:
            good.write(line + '\n')
            continue
        wrong.write(line + '\n')
PY
expect_eq "$(wc -l <wrong.jsonl)" 180 "wrong-key records"
expect_exit 0 "$TALLY" run --source file:good.jsonl --sink csv:reference.csv --summary reference.json
sorted_rows reference.csv >reference-rows.csv

expect_exit 0 "$stack" kafka-topics --create --topic "$topic" --partitions 3
expect_exit 0 "$TALLY" produce --from file:good.jsonl --to "$kafka/$topic"  # keyed by UserUUID
expect_exit 0 "$TALLY" produce --from file:unkeyed.jsonl --to "$kafka/$topic" --key-field ""
expect_exit 0 timeout 120 "$stack" kafka-console-producer --topic "$topic" --property parse.key=true \
  --property key.separator=$'\t' --producer-property acks=all <miskeyed.tsv

# ---- 0. without the flag, the topic is repartitioned: every record counts ---
# (keys then mean nothing: each valid record is re-keyed by its UserUUID)
expect_exit 0 "$TALLY" run --source file:events.jsonl --sink csv:all.csv
sorted_rows all.csv >all-rows.csv
expect_exit 0 timeout 120 "$TALLY" run --source "$kafka/$topic" --group "${group}_unkeyed" --state-dir state-unkeyed \
  --available-now --sink csv:unkeyed.csv --dead-letter "$kafka/$topic.unkeyed-dead-letters"
sorted_rows unkeyed.csv >unkeyed-rows.csv
expect_file_eq unkeyed-rows.csv all-rows.csv

# ---- 1. counted per partition, wrong keys dead-lettered ---------------------
expect_exit 0 timeout 120 "$TALLY" run --source "$kafka/$topic" --group "$group" --state-dir state --available-now \
  --input-keyed-by-user --sink csv:keyed.csv --summary keyed.json --trigger 1s
expect_contains "$err" "wrong_key 180"
sorted_rows keyed.csv >keyed-rows.csv
expect_file_eq keyed-rows.csv reference-rows.csv
# The file run's counts, with the wrong-key records added as invalid.
python3 - <<'PY' >expected.json
import json
c = json.load(open('reference.json'))
c['records'] += 180
c['invalid'] += 180
print(json.dumps(c, separators=(',', ':')))
PY
expect_file_eq keyed.json expected.json

# Every dead letter, as "REASON<TAB>RECORD" (the reason header comes first).
expect_exit 0 timeout 120 "$stack" kafka-console-consumer --topic "$topic.dead-letters" --from-beginning \
  --max-messages 180 --timeout-ms 30000 --property print.headers=true \
  --consumer-property isolation.level=read_committed
sed -E 's/^tally\.error\.reason:([a-z_]+),[^\t]*\t/\1\t/' "$out" | LC_ALL=C sort >dead.tsv
sed 's/^/wrong_key\t/' wrong.jsonl | LC_ALL=C sort >expected-dead.tsv
expect_file_eq dead.tsv expected-dead.tsv

# ---- 2. a partition added while the job runs stops it ----------------------
timeout --foreground 120 "$TALLY" run --source "$kafka/$topic" --group "$group" --state-dir state \
  --input-keyed-by-user --sink csv:grown.csv --trigger 1s >grown.out 2>grown.err &
run=$!
pids+=("$run")
await "the job takes the topic's 3 partitions" 60 grep -q "partition 2: " grown.err  # its restore is logged
expect_exit 0 "$stack" kafka-topics --alter --topic "$topic" --partitions 4
await "the job stops once the topic has grown" 60 ended "$run"
wait "$run"
rc=$?
expect_eq "$rc" 1 "exit status of the job whose topic grew (124: it never stopped)"
expect_contains grown.err "$topic: the topic grew from 3 to"
expect_contains grown.err "stop the job, re-create the topic"

finish
