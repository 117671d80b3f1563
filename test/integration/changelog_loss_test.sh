#!/usr/bin/env bash
# A changelog topic that lost the job's state must never be taken for the
# truth. Against the real Kafka of the local stack: a job commits half a
# stream; its changelog topic is deleted; the next start refuses (exit 1, one
# line naming the topic, the partition, the checkpoint, the end offset and
# --reseed-changelog) instead of rebuilding from the empty topic;
# --reseed-changelog copies the intact local state back; the job then resumes
# and its totals continue (equal to the file run of the whole stream), and a
# fresh state dir restored from the reseeded changelog holds the same. With the
# state dir gone too, the start refuses (the group has committed offsets), and
# so does a reseed from the empty dir.
# Usage: bash changelog_loss_test.sh /path/to/tally
stack=$(cd "$(dirname "$0")/../.." && pwd)/scripts/local-stack  # before lib.sh moves to a temporary directory
source "$(dirname "$0")/../cli/lib.sh"

id="$$_$(date +%s)"
topic="state_loss_$id"
group="state_loss_$id"
changelog="$group-$topic-changelog"
kafka="kafka://127.0.0.1:9092"

# delete_topic NAME: deletes it and waits until the cluster no longer lists it.
delete_topic() {
  "$stack" kafka-topics --delete --topic "$1" >/dev/null 2>&1
  for _ in $(seq 1 100); do
    "$stack" kafka-topics --list 2>/dev/null | grep -qx -- "$1" || return 0
    sleep 0.2
  done
  fail "topic $1 still listed after its deletion"
}

# A stream with duplicates, some of them across its two halves.
expect_exit 0 "$TALLY" generate --events 6000 --learners 50 --days 3 --seed 8 --duplicate-ratio 0.2 \
  --output events.jsonl
head -n 3000 events.jsonl >first.jsonl
tail -n +3001 events.jsonl >second.jsonl
expect_exit 0 "$TALLY" run --source file:events.jsonl --sink csv:reference.csv --summary reference.json \
  --dead-letter file:reference-dl.jsonl

run=(run --source "$kafka/$topic" --group "$group" --available-now --sink console --console-rows 0
  --trigger 1s --startup-wait 5s)

expect_exit 0 "$TALLY" produce --from file:first.jsonl --to "$kafka/$topic"
expect_exit 0 "$TALLY" "${run[@]}" --state-dir state --summary first.json
expect_contains "$err" "read 3,000 records"

# ---- the changelog topic is deleted: the next start refuses ------------------
delete_topic "$changelog"
expect_exit 0 "$TALLY" produce --from file:second.jsonl --to "$kafka/$topic"
expect_exit 1 "$TALLY" "${run[@]}" --state-dir state --summary refused.json
expect_contains "$err" "changelog topic '$changelog' partition 0 ends at offset 0, but the local state"
expect_contains "$err" "state/partition-0 has checkpoint"
expect_contains "$err" "refusing to start"
expect_contains "$err" "--reseed-changelog"
expect_eq "$(grep -c "refusing to start" "$err")" 1 "refusal lines"
expect_missing refused.json
# Nothing was read: the group's offset is where the first run left it.
offset=$("$stack" kafka-consumer-groups --describe --group "$group" 2>/dev/null | awk -v t="$topic" '$2 == t { print $4 }')
expect_eq "$offset" 3000 "committed offset after the refusal"

# ---- reseed from the intact local state; the job resumes ---------------------
expect_exit 0 "$TALLY" "${run[@]}" --state-dir state --reseed-changelog
expect_contains "$err" "partition 0: reseeded changelog topic '$changelog' with"
expect_contains "$err" "reseeded 1 partition of changelog topic '$changelog'"
expect_exit 0 "$TALLY" "${run[@]}" --state-dir state --summary resumed.json
expect_contains "$err" "local state is current"
expect_contains "$err" "read 3,000 records"
# The totals continue from the first half's: the whole stream's, each record
# once, duplicates across the halves included.
expect_file_eq resumed.json reference.json
# A reseed when nothing was lost changes nothing.
expect_exit 0 "$TALLY" "${run[@]}" --state-dir state --reseed-changelog
expect_contains "$err" "nothing to reseed"
expect_contains "$err" "reseeded 0 partitions"
# The reseeded changelog holds the whole state: a new state dir restored from it
# has the same totals.
expect_exit 0 "$TALLY" "${run[@]}" --state-dir fresh --summary fresh.json
expect_contains "$err" "partition 0: restored"
expect_contains "$err" "read 0 records"
expect_file_eq fresh.json reference.json

# ---- the state dir gone as well: refused, and nothing to reseed from ---------
delete_topic "$changelog"
rm -rf state fresh
expect_exit 1 "$TALLY" "${run[@]}" --state-dir state --summary lost.json
expect_contains "$err" "changelog topic '$changelog' partition 0 holds no state, but group '$group' has committed offset 6000"
expect_contains "$err" "refusing to start"
expect_eq "$(grep -c "refusing to start" "$err")" 1 "refusal lines"
expect_missing lost.json
expect_exit 1 "$TALLY" "${run[@]}" --state-dir state --reseed-changelog
expect_contains "$err" "holds no local state of topic '$topic'"
expect_contains "$err" "the state is lost"

"$stack" kafka-topics --delete --topic "$topic" >/dev/null 2>&1
"$stack" kafka-topics --delete --topic "$changelog" >/dev/null 2>&1
"$stack" kafka-topics --delete --topic "$topic.dead-letters" >/dev/null 2>&1
finish
