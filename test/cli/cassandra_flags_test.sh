# End-to-end: the Cassandra sink's TLS and credential flags never let a
# password or a connection meant to be private go out in plaintext by accident.
# --cassandra-ca-file or --cassandra-skip-verify without --cassandra-tls, and a
# username or password without TLS (unless --cassandra-allow-plaintext-auth),
# are usage errors: exit 2 naming the flag, before any connection is tried.
# The sink names a port nothing listens on, with no start-up wait: had tally
# tried to connect, it would exit 1 (unreachable), not 2.
# Usage: bash cassandra_flags_test.sh /abs/path/to/tally
source "$(dirname "$0")/lib.sh"

valid='{"EventUUID":"e0000000-0000-4000-a000-000000000001","UserUUID":"11111111-1111-1111-1111-111111111111","EventName":"a","CreatedAt":"2024-03-10T10:00:00Z"}'
printf '%s\n' "$valid" >"$tmp/in.jsonl"
closed_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run=(run --source "file:$tmp/in.jsonl" --sink "cassandra://127.0.0.1:$closed_port/cql_flags.t" --startup-wait 0s
  --dead-letter "file:$tmp/dead.jsonl")

# flag_error TEXT ARGS...: `tally run ... ARGS` exits 2 and says TEXT.
flag_error() {
  local text=$1
  shift
  expect_exit 2 "$TALLY" "${run[@]}" "$@"
  expect_contains "$err" "$text"
  expect_not_contains "$err" "cannot connect"
}

flag_error "--cassandra-ca-file needs --cassandra-tls" --cassandra-ca-file "$tmp/ca.pem"
flag_error "--cassandra-skip-verify needs --cassandra-tls" --cassandra-skip-verify
flag_error "would send the password in clear" --cassandra-username u --cassandra-password p
flag_error "--cassandra-allow-plaintext-auth" --cassandra-username u
TALLY_CASSANDRA_PASSWORD=p flag_error "would send the password in clear"
TALLY_CASSANDRA_SKIP_VERIFY=true flag_error "--cassandra-skip-verify needs --cassandra-tls"

# Allowed: the explicit opt-in, and TLS. Both then try to connect: exit 1.
expect_exit 1 "$TALLY" "${run[@]}" --cassandra-username u --cassandra-password p --cassandra-allow-plaintext-auth
expect_contains "$err" "127.0.0.1:$closed_port"
TALLY_CASSANDRA_ALLOW_PLAINTEXT_AUTH=true expect_exit 1 "$TALLY" "${run[@]}" --cassandra-username u
expect_exit 1 "$TALLY" "${run[@]}" --cassandra-tls --cassandra-skip-verify --cassandra-username u
expect_contains "$err" "127.0.0.1:$closed_port"
expect_exit 0 "$TALLY" run --help
expect_contains "$out" "--cassandra-allow-plaintext-auth"

finish
