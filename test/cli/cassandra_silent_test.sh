# End-to-end: a Cassandra that accepts the schema but never answers a write.
# A fake CQL server (python, here) answers OPTIONS, STARTUP, the sink's
# CREATE KEYSPACE/TABLE, its schema check and PREPARE, then keeps every
# EXECUTE and BATCH unanswered. tally must report the outage (a "sink OUTAGE"
# line, after the 12 s request timeout) instead of going silent, and a SIGTERM
# must end the run within the documented bound (30 s; docs/operations.md) with
# exit 1 naming the endpoint, nothing committed. A second fake server, run
# with "prepare", never answers PREPARE either: the start itself hangs (the
# session retries it for about a minute), and a SIGTERM then ends the process
# by the watchdog's bound (30 s), with exit 1 and a line that says so.
# Usage: bash cassandra_silent_test.sh /abs/path/to/tally
# ctest: scenario (waits out request timeouts and the stop watchdog: about a minute; run once, in the release build)
source "$(dirname "$0")/lib.sh"

cat >"$tmp/silent_cql.py" <<'EOF'
import socket, struct, sys, threading

def string(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b

def cell(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b

def schema_rows():
    body = struct.pack(">iii", 2, 1, 3) + string("system_schema") + string("columns")
    for name in ("column_name", "kind", "type"):
        body += string(name) + struct.pack(">H", 0x0D)
    body += struct.pack(">i", 3)
    for row in (("user_uuid", "partition_key", "uuid"), ("created_date", "clustering", "date"),
                ("event_count", "regular", "bigint")):
        body += b"".join(cell(v) for v in row)
    return body

def prepared():
    body = struct.pack(">i", 4) + struct.pack(">H", 2) + b"id" + struct.pack(">iii", 1, 4, 1) + struct.pack(">H", 0)
    body += string("ks") + string("t")
    for name, type_id in (("user_uuid", 0x0C), ("created_date", 0x11), ("event_count", 0x02), ("ts", 0x02)):
        body += string(name) + struct.pack(">H", type_id)
    return body + struct.pack(">ii", 4, 0)

def read(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data

def serve(conn):
    try:
        while True:
            _, _, stream, opcode, length = struct.unpack(">BBhBI", read(conn, 9))
            body = read(conn, length)
            if opcode == 0x05:    # OPTIONS
                answer = (0x06, struct.pack(">H", 1) + string("CQL_VERSION") + struct.pack(">H", 1) + string("3.4.7"))
            elif opcode == 0x01:  # STARTUP
                answer = (0x02, b"")
            elif opcode == 0x07:  # QUERY
                query = body[4:4 + struct.unpack(">i", body[:4])[0]].decode()
                answer = (0x08, schema_rows() if query.startswith("SELECT") else struct.pack(">i", 1))
            elif opcode == 0x09:  # PREPARE
                if silent_prepare:  # say it came, never answer it
                    with open(sys.argv[1] + ".prepare", "w") as f:
                        f.write("prepare")
                    continue
                answer = (0x08, prepared())
            else:                 # EXECUTE, BATCH: never answered
                continue
            conn.sendall(struct.pack(">BBhBI", 0x84, 0, stream, answer[0], len(answer[1])) + answer[1])
    except (EOFError, OSError):
        pass

silent_prepare = len(sys.argv) > 2 and sys.argv[2] == "prepare"
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
EOF

python3 "$tmp/silent_cql.py" "$tmp/port" &
server=$!
trap 'kill $server 2>/dev/null; _on_exit' EXIT
# await_file PATH TEXT SECONDS: waits until PATH holds TEXT (polling the file
# tally or the server writes); fails after SECONDS.
await_file() {
  local deadline=$((SECONDS + $3))
  until [[ -f "$1" ]] && grep -qF -- "$2" "$1"; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.2
  done
}
# await_exit PID WHAT: waits for the process to end, for 60 s at most (twice
# the documented bound), then kills it and fails; `wait PID` gives its status.
await_exit() {
  local _
  for _ in $(seq 1 300); do
    if ! kill -0 "$1" 2>/dev/null; then pass; return; fi
    sleep 0.2
  done
  fail "tally still running 60 s $2"
  kill -KILL "$1"
}
check "the fake server is listening" await_file "$tmp/port" "" 10
port=$(cat "$tmp/port")
endpoint="cassandra://127.0.0.1:$port/ks.t"

printf '%s\n' '{"EventUUID":"e0000000-0000-4000-a000-000000000001","UserUUID":"11111111-1111-1111-1111-111111111111","EventName":"a","CreatedAt":"2024-03-10T10:00:00Z"}' >"$tmp/in.jsonl"
"$TALLY" run --source "file:$tmp/in.jsonl" --sink "$endpoint" --dead-letter "file:$tmp/dead.jsonl" \
  --summary "$tmp/summary.json" >"$out" 2>"$err" &
tally=$!
# The outage is reported after the request timeout (12 s), not waited on in silence.
check "a sink OUTAGE line" await_file "$err" "tally: sink OUTAGE" 40
expect_contains "$err" "127.0.0.1:$port"
kill -TERM $tally
# The run ends within the documented bound; wait for it, but not for ever.
await_exit $tally "after SIGTERM"
wait $tally
expect_eq "$?" 1 "exit status after SIGTERM during the outage"
expect_contains "$err" "$endpoint"
expect_contains "$err" "not committed"
expect_missing "$tmp/summary.json"

# --- a start that hangs on a silent PREPARE --------------------------------------
python3 "$tmp/silent_cql.py" "$tmp/port2" prepare &
server2=$!
trap 'kill $server $server2 2>/dev/null; _on_exit' EXIT
check "the second fake server is listening" await_file "$tmp/port2" "" 10
port2=$(cat "$tmp/port2")
"$TALLY" run --source "file:$tmp/in.jsonl" --sink "cassandra://127.0.0.1:$port2/ks.t" \
  --dead-letter "file:$tmp/dead2.jsonl" --summary "$tmp/summary2.json" >"$out" 2>"$err" &
tally=$!
# The start now waits on a PREPARE the server will never answer.
check "tally sent PREPARE" await_file "$tmp/port2.prepare" "prepare" 40
kill -TERM $tally
await_exit $tally "after SIGTERM during a hung start"
wait $tally
expect_eq "$?" 1 "exit status after SIGTERM during a hung start"
expect_contains "$err" "did not stop within 30s of SIGTERM"
expect_missing "$tmp/summary2.json" "$tmp/dead2.jsonl"
expect_eq "$(ls "$tmp" | grep -c 'tmp-')" 0 "temporary files left"

finish
