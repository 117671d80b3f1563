#!/usr/bin/env bash
# End-to-end: --http HOST:PORT. A malformed address is a usage error (exit 2);
# a port in use is exit 1 with one line naming it, before anything is opened;
# a running job serves /healthz, /readyz and /metrics, whose figures are the
# run's own.
# Usage: bash http_test.sh /abs/path/to/tally
source "$(dirname "$0")/lib.sh"

valid='{"EventUUID":"e0000000-0000-4000-a000-00000000000N","UserUUID":"11111111-1111-1111-1111-111111111111","EventName":"a","CreatedAt":"2024-03-10T10:00:00Z"}'
for i in 1 2 3; do printf '%s\n' "${valid/N/$i}"; done >in.jsonl
printf '%s\n' "${valid/N/1}" 'not json' >>in.jsonl  # a duplicate, an invalid record
run=("$TALLY" run --source file:in.jsonl --sink csv:out.csv)

# --- a malformed HOST:PORT: exit 2 ------------------------------------------------
for bad in 9400 127.0.0.1 127.0.0.1: :9400 127.0.0.1:65536 127.0.0.1:x example.com:9400; do
  expect_exit 2 "${run[@]}" --http "$bad"
  expect_contains "$err" "--http"
done
expect_contains "$err" "expected HOST:PORT"
expect_missing out.csv

# --- a port in use: exit 1, one line naming it, nothing written -------------------
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
sys.stdin.read()  # until the test closes its end
' >busy.port < <(sleep 60) &
holder=$!
await "the port holder is listening" 10 test -s busy.port
busy=$(cat busy.port)
expect_exit 1 "${run[@]}" --http "127.0.0.1:$busy"
expect_contains "$err" "port $busy"
expect_eq "$(wc -l <"$err")" 1 "lines on stderr for a port in use"
expect_missing out.csv
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

# --- a running job: the endpoints --------------------------------------------------
# get PATH: "STATUS BODY" of GET http://127.0.0.1:$port/PATH.
get() {
  python3 - "http://127.0.0.1:$port$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    print(r.status, r.read().decode(), end="")
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(), end="")
PY
}
mkfifo in.fifo
"$TALLY" run --source file:in.fifo --sink csv:live.csv --trigger 200ms --http 127.0.0.1:0 2>live.err &
job=$!
exec 3>in.fifo  # blocks until the job opens its input
port=$(sed -n 's|.*serving /metrics, /healthz and /readyz on http://127.0.0.1:\([0-9]*\)$|\1|p' live.err)
expect_eq "$([[ $port =~ ^[0-9]+$ ]] && echo yes)" yes "the port served, in the log"
expect_eq "$(get /healthz)" "200 ok" "/healthz"
cat in.jsonl >&3
# Published at the trigger after the records are read.
counted() { get /metrics | grep -q '^tally_records_total{verdict="counted"} 3$'; }
await "/metrics shows the 3 counted records" 20 counted
get /metrics >metrics.txt
expect_contains metrics.txt 'tally_records_total{verdict="duplicate"} 1'
expect_contains metrics.txt 'tally_records_total{verdict="invalid"} 1'
expect_contains metrics.txt 'tally_dead_letters_total{reason="not_json"} 1'
expect_contains metrics.txt 'tally_tasks{state="running"} 1'
expect_contains metrics.txt '# TYPE process_resident_memory_bytes gauge'
expect_eq "$(get /readyz)" "200 ready" "/readyz of a running job"
expect_eq "$(get /nothing | cut -c1-3)" 404 "an unknown path"
exec 3>&-  # the end of the input: the job ends
wait "$job"
expect_eq $? 0 "exit status"
expect_contains live.err "read 5 records"
expect_contains live.err "3 counted, 1 duplicates, 0 late, 1 invalid"

finish
