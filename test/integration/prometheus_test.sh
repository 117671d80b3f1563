#!/usr/bin/env bash
# A real Prometheus server (Debian's `prometheus`, on loopback, scraping every
# second) scrapes a running Kafka -> Cassandra job through --http; once it has
# scraped the job's final figures (awaited through its query API), the job is
# stopped with SIGTERM, and the figures Prometheus holds must equal the job's
# summary: records by verdict, dead letters, rows written. The per-partition
# gauges and the Cassandra figures must be there too.
# Usage: bash prometheus_test.sh /path/to/tally
stack=$(cd "$(dirname "$0")/../.." && pwd)/scripts/local-stack  # before lib.sh moves to a temporary directory
source "$(dirname "$0")/../cli/lib.sh"

id="$$_$(date +%s)"
topic="metrics_events_$id"
group="metrics_$id"
keyspace="metrics_$id"
kafka="kafka://127.0.0.1:9092"
job_pid=""
prometheus_pid=""

cleanup() {
  local rc=$?
  if ((failed > 0 || finished == 0)); then
    for f in job.err prometheus.log; do
      [[ -s $f ]] && { echo "--- last lines of $f:"; tail -n 8 "$f"; } >&2
    done
  fi
  [[ -n $job_pid ]] && kill -KILL "$job_pid" 2>/dev/null
  [[ -n $prometheus_pid ]] && kill -KILL "$prometheus_pid" 2>/dev/null
  wait 2>/dev/null
  "$stack" cqlsh -e "DROP KEYSPACE IF EXISTS $keyspace" >/dev/null 2>&1
  for t in "$topic" "$topic.dead-letters"; do "$stack" kafka-topics --delete --topic "$t" >/dev/null 2>&1; done
  return $rc
}
trap 'cleanup; _on_exit' EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
tally_port=$(free_port)
prometheus_port=$(free_port)

# prom EXPR [TIME]: the value of a query that yields one sample, "none" if it
# yields none, through Prometheus' HTTP API (/api/v1/query). With TIME (Unix
# seconds), at that time; else now.
prom() {
  python3 - "http://127.0.0.1:$prometheus_port/api/v1/query" "$1" "${2:-}" <<'PY'
import json, sys, urllib.parse, urllib.request
params = {"query": sys.argv[2]}
if sys.argv[3]:
    params["time"] = sys.argv[3]
try:
    with urllib.request.urlopen(sys.argv[1] + "?" + urllib.parse.urlencode(params), timeout=5) as r:
        body = json.load(r)
except Exception as e:
    print("none"); sys.exit(0)
result = body["data"]["result"]
print(result[0]["value"][1] if len(result) == 1 else "none")
PY
}

# ---- the input: a stream with duplicates, late and invalid records -------------
expect_exit 0 "$TALLY" produce --to "$kafka/$topic" --events 20000 --learners 200 --days 5 --seed 17 \
  --duplicate-ratio 0.05 --late-ratio 0.01 --invalid-ratio 0.02
expect_contains "$err" "20,000 acknowledged, 0 failed"

# ---- the job, long-running, and Prometheus scraping it -------------------------
"$TALLY" run --source "$kafka/$topic" --group "$group" --state-dir state --trigger 1s \
  --sink "cassandra://127.0.0.1:9042/$keyspace.daily_counts" --http "127.0.0.1:$tally_port" >job.out 2>job.err &
job_pid=$!

cat >prometheus.yml <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tally
    static_configs:
      - targets: ["127.0.0.1:$tally_port"]
YML
prometheus --config.file=prometheus.yml --storage.tsdb.path=prometheus-data \
  --web.listen-address="127.0.0.1:$prometheus_port" >prometheus.log 2>&1 &
prometheus_pid=$!
ready() { [[ $(prom 'up{job="tally"}') == 1 ]]; }
await "Prometheus scrapes the job" 60 ready

# Every record taken, as Prometheus saw it...
all_taken() { [[ $(prom 'sum(tally_records_total{job="tally"})') == 20000 ]]; }
await "Prometheus sees all 20,000 records" 120 all_taken
# ...and, since counts are published at the start of a trigger and its rows
# written within it, two triggers later every figure of the last busy one
# is final and scraped.
triggers=$(prom 'tally_trigger_duration_seconds_count{job="tally"}')
settled() {
  local now
  now=$(prom 'tally_trigger_duration_seconds_count{job="tally"}')
  [[ $now != none ]] && ((now >= triggers + 2))
}
await "two more triggers scraped" 30 settled
at=$(python3 -c 'import time; print(time.time())')

kill -TERM "$job_pid"
wait "$job_pid"
expect_eq $? 0 "the job's exit status after SIGTERM"
job_pid=""
expect_contains job.err "read 20,000 records"

# ---- Prometheus' figures against the job's summary -----------------------------
summary=$(grep -o 'records: [0-9,]* counted, [0-9,]* duplicates, [0-9,]* late, [0-9,]* invalid' job.err | tr -d ,)
read -r counted duplicates late invalid < <(echo "$summary" | awk '{ print $2, $4, $6, $8 }')
rows=$(grep -o 'Wrote [0-9,]* row updates' job.err | tr -d , | awk '{ print $2 }')
letters=$(grep -o '[0-9,]* dead letters to' job.err | tr -d , | awk '{ print $1 }')
expect_eq "$([[ -n $counted && -n $rows && -n $letters ]] && echo found)" found "the summary's figures"
for verdict in counted:$counted duplicate:$duplicates late:$late invalid:$invalid; do
  expect_eq "$(prom "tally_records_total{job=\"tally\",verdict=\"${verdict%%:*}\"}" "$at")" "${verdict#*:}" \
    "tally_records_total{verdict=\"${verdict%%:*}\"}"
done
expect_eq "$(prom 'tally_records_total{job="tally",verdict="wrong_key"}' "$at")" 0 "wrong_key records"
expect_eq "$(prom 'tally_rows_written_total{job="tally"}' "$at")" "$rows" "tally_rows_written_total"
expect_eq "$(prom 'sum(tally_dead_letters_total{job="tally"})' "$at")" "$letters" "sum of tally_dead_letters_total"
expect_eq "$(prom 'tally_dead_letters_total{job="tally",reason="late"}' "$at")" "$late" "late dead letters"

# The other figures are there, with their labels.
expect_eq "$(prom "tally_consumer_lag_records{job=\"tally\",topic=\"$topic\",partition=\"0\"}" "$at")" 0 \
  "consumer lag of partition 0, caught up"
expect_eq "$(prom 'tally_tasks{job="tally",state="running"}' "$at")" 1 "running tasks"
expect_eq "$(prom 'tally_restore_remaining_records{job="tally",partition="0"}' "$at")" 0 "restore remaining"
# The only task is the most advanced one: it trails itself by nothing.
expect_eq "$(prom 'tally_event_time_skew_seconds{job="tally",partition="0"}' "$at")" 0 "event-time skew of the only task"
nonzero() { [[ $1 != none ]] && python3 -c "import sys; sys.exit(0 if float('$1') > 0 else 1)"; }
for expr in 'tally_watermark_seconds{job="tally",partition="0"}' 'tally_state_entries{job="tally",store="dedup"}' \
  'tally_state_bytes{job="tally",store="windows"}' 'tally_cassandra_request_duration_seconds_count{job="tally"}' \
  'tally_commit_duration_seconds_count{job="tally",kind="transaction"}' 'process_resident_memory_bytes{job="tally"}' \
  'process_cpu_seconds_total{job="tally"}'; do
  if nonzero "$(prom "$expr" "$at")"; then pass; else fail "$expr: not above 0 ($(prom "$expr" "$at"))"; fi
done

finish
