#!/usr/bin/env bash
# deploy/healthcheck, the container image's HEALTHCHECK (bash over /dev/tcp, no
# curl in the image): exit 0 only for a 200 from /healthz at
# TALLY_HEALTHCHECK_ADDRESS; 1 for another status, a closed port, or a server
# that accepts but never answers (bounded by its read timeout).
# The server is Python's http.server on a free loopback port, serving a folder
# in which a file `healthz` stands for a healthy process.
source "$(dirname "$0")/lib.sh"

check_script="$CLI_TEST_DIR/../../deploy/healthcheck"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/www"
(cd "$tmp/www" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
server=$!
trap 'rc=$?; kill $server $mute 2>/dev/null; (exit $rc); _on_exit' EXIT
mute=""
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
await "http.server listens" 30 listening

export TALLY_HEALTHCHECK_ADDRESS="127.0.0.1:$port"
expect_exit 1 "$check_script"    # /healthz missing: 404
touch "$tmp/www/healthz"
expect_exit 0 "$check_script"    # 200
kill "$server"
wait "$server" 2>/dev/null
expect_exit 1 "$check_script"    # connection refused

# A port that accepts and never answers: the read times out (2 s), exit 1.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
s.settimeout(30); held = []
try:
    while True: held.append(s.accept()[0])
except OSError: pass' "$port" &
mute=$!
await "mute server listens" 30 listening
expect_exit 1 timeout 10 "$check_script"    # 124 if the script hung
kill "$mute" 2>/dev/null

finish
