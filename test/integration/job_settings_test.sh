#!/usr/bin/env bash
# Same job, same settings (issue 9, item 5), against the real local broker:
#   1. the first start of a group writes the job's settings, one JSON record,
#      to the compacted one-partition topic GROUP-TOPIC-settings;
#   2. a start with the same settings (another state dir, another csv path:
#      a process's own outputs) runs;
#   3. a start with another --lateness, --created-at-field, --input-timezone
#      or --sink is refused (exit 1) with one line naming the flag and both
#      values, before it opens the sink (the refused Cassandra sink's keyspace
#      is never created) and before it reads a record;
#   4. a settings topic with 2 partitions is refused, naming it;
#   5. two processes of a new group starting at once with other lateness:
#      exactly one runs, the other is refused.
# Usage: bash job_settings_test.sh /path/to/tally
stack=$(cd "$(dirname "$0")/../.." && pwd)/scripts/local-stack  # before lib.sh moves to a temporary directory
source "$(dirname "$0")/../cli/lib.sh"

id="$$_$(date +%s)"
kafka="kafka://127.0.0.1:9092"
topic="settings_$id"
group="settings_$id"
settings="$group-$topic-settings"
topics=("$topic" "$topic.dead-letters" "$settings" "$group-$topic-changelog")
cleanup() {
  local t
  for t in "${topics[@]}"; do "$stack" kafka-topics --delete --topic "$t" >/dev/null 2>&1 || true; done
}
trap 'cleanup; _on_exit' EXIT

# first_record TOPIC: the topic's first record.
first_record() {
  timeout 60 "$stack" kafka-console-consumer --topic "$1" --from-beginning --max-messages 1 \
    --isolation-level read_committed 2>/dev/null
}
# end_offset TOPIC: the end offset of its partition 0 (tally writes the
# settings without a transaction: the number of records written).
end_offset() { timeout 60 "$stack" kafka-get-offsets --topic "$1" 2>/dev/null | awk -F: '$2 == 0 { print $3 }'; }

expect_exit 0 "$TALLY" generate --events 200 --learners 20 --days 3 --output events.jsonl
expect_exit 0 "$TALLY" produce --from file:events.jsonl --to "$kafka/$topic"

# Every run: --available-now on the tiny topic, bounded.
run() { timeout --foreground 120 "$TALLY" run --source "$kafka/$topic" --available-now --trigger 1s "$@"; }

# ---- 1. the first start writes the job's settings ----------------------------
expect_exit 0 run --group "$group" --state-dir state-1 --sink csv:first.csv
expect_contains "$err" "read 200 records"
expect_eq "$(end_offset "$settings")" 1 "records in the settings topic"
first_record "$settings" >records.txt
expect_contains records.txt '"format":2,"input_topic":"'"$topic"'","lateness":"7d"'
expect_contains records.txt '"sink":"csv"'
expect_contains records.txt '"dead_letter_topic":"'"$topic"'.dead-letters"'
expect_exit 0 "$stack" kafka-topics --describe --topic "$settings"
expect_contains "$out" "PartitionCount: 1"
expect_contains "$out" "cleanup.policy=compact"

# ---- 2. same settings (lateness typed another way), other local outputs ------
expect_exit 0 run --group "$group" --state-dir state-2 --sink csv:second.csv --lateness 168h
expect_contains "$err" "read 0 records"
expect_eq "$(end_offset "$settings")" 1 "records in the settings topic"

# ---- 3. other settings are refused, naming the difference --------------------
refused() {  # FLAG TEXT ARGS...: a start with ARGS is refused naming FLAG with TEXT
  local flag=$1 text=$2
  shift 2
  expect_exit 1 run --group "$group" --state-dir state-refused "$@"
  expect_contains "$err" "$flag: $text"
  expect_contains "$err" "run it with the job's settings, or use another --group for a new job"
  expect_eq "$(grep -c . "$err")" 1 "lines on stderr of a refused start ($flag)"
  expect_not_contains "$err" "read "
}
refused --lateness "this process has 3d, the job (group $group, topic $topic) has 7d" --sink csv:x.csv --lateness 3d
refused --created-at-field "this process has 'ts', the job (group $group, topic $topic) has 'CreatedAt'" \
  --sink csv:x.csv --created-at-field ts
refused --input-timezone "this process has 'Asia/Calcutta'" --sink csv:x.csv --input-timezone Asia/Calcutta
keyspace="settings_$$_$(date +%s)"
refused --sink "this process has 'cassandra://127.0.0.1:9042/$keyspace.daily_counts', the job (group $group, topic $topic) has 'csv'" \
  --sink "cassandra://127.0.0.1:9042/$keyspace.daily_counts"
# The refused start never reached the sink: its keyspace was not created.
expect_exit 0 timeout 60 "$stack" cqlsh -e "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = '$keyspace'"
expect_contains "$out" "(0 rows)"
# Two differences: both named.
expect_exit 1 run --group "$group" --state-dir state-refused --sink console --lateness 1d
expect_contains "$err" "--lateness: this process has 1d"
expect_contains "$err" "; --sink: this process has 'console', the job has 'csv'"
# Refusals wrote nothing: still the one record.
expect_eq "$(end_offset "$settings")" 1 "records in the settings topic"

# ---- 4. a settings topic with 2 partitions -----------------------------------
group2="settings2_$id"
topics+=("$group2-$topic-settings" "$group2-$topic-changelog")
expect_exit 0 "$stack" kafka-topics --create --topic "$group2-$topic-settings" --partitions 2 \
  --config cleanup.policy=compact
expect_exit 1 run --group "$group2" --state-dir state-two --sink csv:two.csv
expect_contains "$err" "job settings topic '$group2-$topic-settings' has 2 partitions; tally keeps a job's settings in exactly one"
expect_contains "$err" "--delete --topic $group2-$topic-settings"

# ---- 5. a start that fails records nothing ----------------------------------
# (a misnamed sink): the corrected start is the job's first.
group4="settings4_$id"
topics+=("$group4-$topic-settings" "$group4-$topic-changelog")
expect_exit 1 run --group "$group4" --state-dir state-4 --sink "cassandra://127.0.0.1:1/$keyspace.t" --startup-wait 0s
expect_contains "$err" "127.0.0.1:1"
expect_eq "$(end_offset "$group4-$topic-settings")" 0 "records in the settings topic after a failed start"
expect_exit 0 run --group "$group4" --state-dir state-4 --sink csv:fixed.csv
expect_contains "$err" "read 200 records"
first_record "$group4-$topic-settings" >fixed.txt
expect_contains fixed.txt '"sink":"csv"'

# ---- 6. two processes of a new group start at once with other settings ------
group3="settings3_$id"
topics+=("$group3-$topic-settings" "$group3-$topic-changelog")
run --group "$group3" --state-dir state-a --sink csv:a.csv --lateness 2d >a.out 2>a.err &
a=$!
run --group "$group3" --state-dir state-b --sink csv:b.csv --lateness 5d >b.out 2>b.err &
b=$!
wait "$a"; rc_a=$?
wait "$b"; rc_b=$?
expect_eq "$(printf '%s\n' "$rc_a" "$rc_b" | sort | tr '\n' ' ')" "0 1 " "exit codes of two racing starts"
first_record "$group3-$topic-settings" >first.txt
if [[ $rc_a == 0 ]]; then winner=2d loser=b.err loser_has=5d; else winner=5d loser=a.err loser_has=2d; fi
expect_contains first.txt "\"lateness\":\"$winner\""
expect_contains "$loser" "--lateness: this process has $loser_has, the job (group $group3, topic $topic) has $winner"

finish
