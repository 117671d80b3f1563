# Shared steps of the multi-process scenarios (sourced after test/cli/lib.sh,
# not a test itself): several `tally run` processes of one group on a
# 6-partition topic, against the real local stack, each scenario ending with
# the Cassandra table equal, row by row, to the file run of the same stream.
#
# The caller sets $stack (scripts/local-stack, resolved before lib.sh cd's
# away) and $prefix (a short name, unique per script), then calls, in order:
#   scenario_stream          the stream, its reference, its three chunks
#   scenario_topic           the 6-partition input topic
#   start_member NAME ...    a long-running process (pid in ${pid_of[NAME]})
#   ...                      the scenario's faults, awaited with `await`
#   scenario_end             once every process has stopped: the table, row by
#                            row, and its write timestamps; a last
#                            --available-now run with an empty state dir; the
#                            table again; the dead letters
# Everything started is killed, and every topic and keyspace made is deleted,
# by the EXIT trap (scenario_cleanup, then lib.sh's _on_exit). A script adds
# its own teardown to cleanup_hooks (run after every process is killed).
#
# The stream is keyed by learner (`tally produce` keys each record by its
# lower-cased UserUUID) and every process runs with --input-keyed-by-user,
# unless the script sets keyed=0: then the stream has no keys, as the seed's
# producer writes it, and each process repartitions it (a router consumer
# and a counting consumer per process, both in the group). No record is late or near the lateness boundary:
# --late-ratio 0, and a lateness (30 days) far above the stream's event-time
# spread (3 days), so the interleaving of partitions decides nothing.

id="$$_$(date +%s)"
kafka="kafka://127.0.0.1:9092"
cassandra="cassandra://127.0.0.1:9042"
partitions=6
topic="${prefix}_events_$id"
group="${prefix}_$id"
keyspace="${prefix}_$id"
table="$keyspace.daily_counts"
lateness=30d
# A dead member keeps its partitions for the session timeout: 6 s (the
# broker's minimum, group.min.session.timeout.ms) rather than tally's 10 s,
# so that every failover here is quick.
session_ms=6000
declare -A pid_of=()
cleanup_hooks=()
topics=("$topic" "$topic.dead-letters" "$group-$topic-changelog")

# Flags of every process of the job. A script that sets keyed=0 before
# sourcing this writes the stream with no keys, as the seed's producer does:
# the job then repartitions it (GROUP-TOPIC-repartition).
keyed=${keyed:-1}
job_flags=(--source "$kafka/$topic" --group "$group" --sink "$cassandra/$table" --trigger 1s
  --lateness "$lateness" --kafka "session.timeout.ms=$session_ms" --kafka heartbeat.interval.ms=1500)
key_field=UserUUID
# The topics the group consumes (with the repartition topic named for the
# group the scenario starts with).
group_topics=("$topic")
if ((keyed)); then
  job_flags+=(--input-keyed-by-user)
else
  key_field=""
  group_topics+=("$group-$topic-repartition")
  topics+=("$group-$topic-repartition" "$group-$group-$topic-repartition-changelog")
fi
# assigned: how many partitions the group's members hold in all when every
# partition is assigned (a script may set $partitions after sourcing this).
assigned() { echo $((partitions * ${#group_topics[@]})); }

scenario_cleanup() {
  local hook name p t f
  # A failed scenario shows what each process said last.
  if ((failed > 0 || finished == 0)); then
    for f in *.err; do
      [[ -s $f ]] && { echo "--- last lines of $f:"; tail -n 8 "$f"; } >&2
    done
    [[ -s group.txt ]] && { echo "--- the group, at the last check:"; cat group.txt; } >&2
  fi
  # SCENARIO_KEEP=DIR keeps the scenario's files there, to read at leisure.
  [[ -n ${SCENARIO_KEEP:-} ]] && mkdir -p "$SCENARIO_KEEP" && cp -r . "$SCENARIO_KEEP/"
  for name in "${!pid_of[@]}"; do
    p=${pid_of[$name]}
    kill -CONT "$p" 2>/dev/null
    kill -KILL "$p" 2>/dev/null
  done
  for hook in "${cleanup_hooks[@]}"; do "$hook"; done
  "$stack" cqlsh -e "DROP KEYSPACE IF EXISTS $keyspace" >/dev/null 2>&1
  for t in "${topics[@]}"; do "$stack" kafka-topics --delete --topic "$t" >/dev/null 2>&1; done
}
trap 'scenario_cleanup; _on_exit' EXIT

# scenario_stream: events.jsonl (with duplicates and invalid records), the
# file run's reference.csv, reference.json and reference-dl.jsonl, and the
# stream cut into chunk-1..3.jsonl in order.
scenario_stream() {
  expect_exit 0 "$TALLY" generate --events 24000 --learners 400 --days 3 --seed "${1:-21}" --duplicate-ratio 0.05 \
    --late-ratio 0 --lateness "$lateness" --invalid-ratio 0.02 --time-format mixed --output events.jsonl
  expect_exit 0 "$TALLY" run --source file:events.jsonl --sink csv:reference.csv --summary reference.json \
    --dead-letter file:reference-dl.jsonl --lateness "$lateness"
  sorted_rows reference.csv >reference-rows.csv
  split -n l/3 -d -a 1 --additional-suffix=.jsonl events.jsonl chunk-
  mv chunk-2.jsonl chunk-3.jsonl && mv chunk-1.jsonl chunk-2.jsonl && mv chunk-0.jsonl chunk-1.jsonl
}

scenario_topic() {
  expect_exit 0 "$stack" kafka-topics --create --topic "$topic" --partitions "$partitions" --replication-factor 1
}

# produce_chunk N: chunk N to the topic, keyed by learner.
produce_chunk() {
  expect_exit 0 "$TALLY" produce --from "file:chunk-$1.jsonl" --to "$kafka/$topic" --key-field "$key_field"
  expect_contains "$err" "0 failed"
}
# produce_chunk_slowly N: chunk N at 1,000 records a second, in the
# background (about 8 s): the processes read it while it arrives, so a fault
# meets them with records read and not yet committed. await_producer waits
# for its end.
produce_chunk_slowly() {
  "$TALLY" produce --from "file:chunk-$1.jsonl" --to "$kafka/$topic" --key-field "$key_field" --rate 1000 \
    >producer.out 2>producer.err &
  pid_of[producer]=$!
}
await_producer() {
  local i
  for ((i = 0; i < 120; i++)); do kill -0 "${pid_of[producer]}" 2>/dev/null || break; sleep 0.5; done
  wait "${pid_of[producer]}"
  expect_eq $? 0 "exit status of the producer"
  unset "pid_of[producer]"
  expect_contains producer.err "0 failed"
}

# start_member NAME [FLAG...]: a long-running process of the job, with its own
# state dir and client id NAME (so `--members` shows which process holds
# what); output in NAME.out and NAME.err. A command prefix (e.g. `ip netns
# exec NS`) may be given in the array member_prefix.
member_prefix=()
start_member() {
  local name=$1
  shift
  "${member_prefix[@]}" "$TALLY" run "${job_flags[@]}" --state-dir "state-$name" --kafka "client.id=$name" "$@" \
    >"$name.out" 2>"$name.err" &
  pid_of[$name]=$!
}

# stop_member NAME SIGNAL WANT: sends SIGNAL, waits for the exit (bounded:
# killed after 60 s) and checks its status is WANT.
stop_member() {
  local name=$1 signal=$2 want=$3 p=${pid_of[$1]} rc i
  kill "-$signal" "$p"
  for ((i = 0; i < 120; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$p" 2>/dev/null; then
    fail "$name did not exit within 60s of SIG$signal"
    kill -KILL "$p"
  fi
  wait "$p"
  rc=$?
  unset "pid_of[$name]"
  expect_eq "$rc" "$want" "exit status of $name after SIG$signal"
  [[ $rc == "$want" ]] || echo "  $name's last lines: $(tail -n 5 "$name.err")" >&2
}

# members: "CLIENT-ID #PARTITIONS" of each process in the group, sorted: the
# partitions its group members (one per consumer: the router's and the
# counter's when repartitioning) hold, of every topic, added up. A process
# whose consumers are all gone is not listed.
members() {
  "$stack" kafka-consumer-groups --describe --group "$group" --members 2>/dev/null |
    awk -v g="$group" '$1 == g && $5 ~ /^[0-9]+$/ { n[$4] += $5 } END { for (c in n) print c, n[c] }' |
    LC_ALL=C sort
}
# holds NAME: the process NAME holds at least one partition.
holds() { members | awk -v c="$1" '$1 == c && $2 > 0 { f = 1 } END { exit !f }'; }
# holds_all NAME: the process NAME holds every partition of every topic the
# group reads, and no other process is in the group.
holds_all() { [[ "$(members)" == "$1 $(assigned)" ]]; }
# not_member NAME: no consumer of NAME is a member of the group any more.
not_member() { members >members.txt && ! awk -v c="$1" '$1 == c { f = 1 } END { exit !f }' members.txt; }
# spread NAME...: these processes, and no other, hold the partitions, each at
# least one, all of them held.
spread() {
  local want
  want=$(printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' ')
  members | awk -v p="$(assigned)" '$2 > 0 { names = names $1 " "; s += $2 } END { print names; exit !(s == p) }' \
    >spread.txt && [[ "$(cat spread.txt)" == "$want" ]]
}

# offsets: "PARTITION COMMITTED CLIENT-ID" of each partition of the input
# (COMMITTED is "-" before the first commit, CLIENT-ID "-" if unassigned).
offsets() {
  "$stack" kafka-consumer-groups --describe --group "$group" 2>/dev/null |
    awk -v t="$topic" '$2 == t { print $3, $4, ($9 == "" ? "-" : $9) }' | LC_ALL=C sort -n
}
# save_offsets: keeps the group's committed offsets in saved-offsets.txt.
save_offsets() { offsets >saved-offsets.txt && [[ $(wc -l <saved-offsets.txt) == "$partitions" ]]; }
# committed_past NAME: the group has committed, at a partition NAME holds, an
# offset past the one saved by save_offsets (NAME has committed new work).
committed_past() {
  offsets | awk -v c="$1" 'NR == FNR { saved[$1] = $2; next }
    $3 == c && $2 ~ /^[0-9]+$/ && $2 + 0 > saved[$1] + 0 { f = 1 } END { exit !f }' saved-offsets.txt -
}

# back NAME: NAME holds partitions again, or has exited.
back() { ! kill -0 "${pid_of[$1]}" 2>/dev/null || holds "$1"; }

# await_return NAME: after a stall or a partition of NAME, NAME must rejoin
# the group, as a process restarted in its place would: its uncommitted work
# void (its transactions aborted, or its producer fenced and the job started
# anew), it holds partitions again, finishes the stream with the others and
# stops with SIGTERM, exit 0. Says on stderr how it came back.
await_return() {
  local name=$1 rc
  await "$name rejoins the group" 90 back "$name"
  if kill -0 "${pid_of[$name]}" 2>/dev/null; then
    echo "${0##*/}: $name came back, rejoined the group and holds partitions again$(
      grep -q 'starts anew and rejoins' "$name.err" && echo ' (fenced: it started the job anew)')" >&2
    await "the group commits every partition to its end with $name back" 60 group_done
    stop_member "$name" TERM 0
  else
    wait "${pid_of[$name]}"
    rc=$?
    unset "pid_of[$name]"
    fail "$name exited (status $rc) instead of rejoining the group: $(tail -n 1 "$name.err")"
  fi
  expect_not_contains "$name.err" "crashed"
}

# group_done: the group has committed, at every partition of every topic it
# reads (the input, and the repartition topic if any), the partition's end
# offset; a partition that never held a record (with no key, the producer
# may leave some empty) has nothing to commit.
group_done() {
  "$stack" kafka-consumer-groups --describe --group "$group" 2>/dev/null | tee group.txt |
    awk -v topics="${group_topics[*]}" -v p="$(assigned)" 'BEGIN { split(topics, t); for (i in t) read[t[i]] = 1 }
      ($2 in read) && (($4 ~ /^[0-9]+$/ && $4 == $5) || ($4 == "-" && $5 == "0")) { n++ } END { exit !(n == p) }'
}

# scenario_catch_up: a run with an empty state dir, --available-now: it
# restores every partition's state from the changelog, finds nothing left to
# read, and its summary (the totals of the job's state, every record ever
# taken, each once) equals the file run's.
scenario_catch_up() {
  expect_exit 0 timeout 120 "$TALLY" run "${job_flags[@]}" --state-dir state-catch-up --available-now \
    --summary catch-up.json
  expect_file_eq catch-up.json reference.json
}

# cql_rows TABLE: the table's rows as sorted csv "user,date,count", via cqlsh.
cql_rows() {
  "$stack" cqlsh -e "COPY $1 (user_uuid, created_date, event_count) TO STDOUT WITH HEADER = false" 2>/dev/null |
    tr -d '\r' | grep -E '^[0-9a-f-]{36},' | LC_ALL=C sort
}

# scenario_check_table WHEN: the table equals reference.csv row by row, and
# every row's write timestamp is its count (no stale writer took a row back).
scenario_check_table() {
  cql_rows "$table" >"table-rows-${1// /-}.csv"
  expect_file_eq "table-rows-${1// /-}.csv" reference-rows.csv
  local fenced
  fenced=$("$stack" cqlsh -e "SELECT event_count, WRITETIME(event_count) FROM $table" 2>/dev/null |
    awk -F'|' 'NF == 2 && $1 ~ /[0-9]/ { n++; if ($1 + 0 != $2 + 0) bad++ } END { print n + 0, bad + 0 }')
  expect_eq "$fenced" "$(wc -l <reference-rows.csv) 0" "$1: rows, and rows whose write timestamp is not their count"
}

# scenario_check_dead_letters: the dead-letter topic holds each invalid
# record of the input exactly once: its letters name distinct (partition,
# offset) pairs of the input topic, as many as the file run's dead letters,
# with the same reasons, and each letter's value is the record at its
# (partition, offset). (Both topics are read with Kafka's console consumer,
# which shows a non-UTF-8 value the same way in each.)
scenario_check_dead_letters() {
  local letters records
  letters=$(wc -l <reference-dl.jsonl)
  records=$(wc -l <events.jsonl)
  "$stack" kafka-console-consumer --topic "$topic.dead-letters" --from-beginning --isolation-level read_committed \
    --max-messages $((letters + 1)) --timeout-ms 10000 --property print.headers=true 2>/dev/null >dead-letters.txt
  "$stack" kafka-console-consumer --topic "$topic" --from-beginning --isolation-level read_committed \
    --max-messages "$records" --timeout-ms 30000 --property print.partition=true --property print.offset=true \
    2>/dev/null >input.txt
  python3 - reference-dl.jsonl dead-letters.txt input.txt "$topic" <<'PY' >dead-letter-check.txt
import collections, json, sys
ref_path, dl_path, input_path, topic = sys.argv[1:5]
want = collections.Counter(json.loads(l)["reason"] for l in open(ref_path))
records = {}
for line in open(input_path, encoding="utf-8", errors="surrogateescape"):
    # Partition:P<TAB>Offset:O<TAB>VALUE
    p, o, value = line.rstrip("\n").split("\t", 2)
    records[(p.split(":")[1], o.split(":")[1])] = value
print("input records read:", len(records))
seen = collections.Counter()
got = collections.Counter()
bad = 0
for line in open(dl_path, encoding="utf-8", errors="surrogateescape"):
    headers, _, value = line.rstrip("\n").partition("\t")
    h = {}
    for part in headers.split(",", 4):  # the detail is last and may hold commas
        k, _, v = part.partition(":")
        h[k] = v
    key = (h.get("tally.source.partition"), h.get("tally.source.offset"))
    seen[key] += 1
    got[h.get("tally.error.reason")] += 1
    if h.get("tally.source.topic") != topic:
        bad += 1
        print("letter of another topic:", h)
    elif records.get(key) != value:
        bad += 1
        print("letter whose value is not the record at", key)
print("letters:", sum(seen.values()), "file run:", sum(want.values()))
print("letters naming a record more than once:", sum(1 for n in seen.values() if n > 1))
print("reasons equal:", got == want)
print("bad letters:", bad)
PY
  expect_eq "$(grep -c '' dead-letters.txt)" "$letters" "dead letters in the topic (the file run has $letters)"
  expect_contains dead-letter-check.txt "input records read: $records"
  expect_contains dead-letter-check.txt "letters naming a record more than once: 0"
  expect_contains dead-letter-check.txt "reasons equal: True"
  expect_contains dead-letter-check.txt "bad letters: 0"
}

# scenario_end: the checks every scenario ends with, once its processes have
# stopped.
scenario_end() {
  scenario_check_table "after the processes stopped"
  scenario_catch_up
  scenario_check_table "after the catch-up run"
  scenario_check_dead_letters
}
