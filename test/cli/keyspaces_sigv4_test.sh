# End-to-end: --cassandra-auth sigv4 (Amazon Keyspaces with AWS credentials)
# refuses bad input with one line naming it, never falling back to another
# way to authenticate or to an unverified connection:
#   - usage errors, exit 2 before any connection: PLAIN credentials too, no
#     TLS, no region, a malformed region, a region other than the endpoint's;
#   - exit 1 before any connection: no AWS credentials anywhere, expired ones;
#   - exit 1 at the TLS handshake: a certificate that does not verify, and one
#     that names another host.
# (A refusal by the server, IAM's denial, is tested against a fake CQL server
# in test/unit/cql_sigv4_handshake_test.cc.)
# Usage: bash keyspaces_sigv4_test.sh /abs/path/to/tally
source "$(dirname "$0")/lib.sh"

for name in $(env | sed -n 's/^\(AWS_[A-Z_]*\)=.*/\1/p'); do unset "$name"; done
export HOME="$tmp/home" AWS_EC2_METADATA_DISABLED=true
mkdir -p "$HOME"

valid='{"EventUUID":"e0000000-0000-4000-a000-000000000001","UserUUID":"11111111-1111-1111-1111-111111111111","EventName":"a","CreatedAt":"2024-03-10T10:00:00Z"}'
printf '%s\n' "$valid" >"$tmp/in.jsonl"
closed_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run=(run --source "file:$tmp/in.jsonl" --startup-wait 0s --dead-letter "file:$tmp/dead.jsonl" --cassandra-auth sigv4)
local_sink=(--sink "cassandra://127.0.0.1:$closed_port/sigv4_flags.t")

# usage TEXT ARGS...: exits 2 saying TEXT, before connecting.
usage() {
  local text=$1
  shift
  expect_exit 2 "$TALLY" "${run[@]}" "$@"
  expect_contains "$err" "$text"
  expect_not_contains "$err" "cannot connect"
}
usage "leave out --cassandra-username" "${local_sink[@]}" --cassandra-tls --aws-region us-east-1 --cassandra-username u
usage "would send the AWS session token in clear" "${local_sink[@]}" --aws-region us-east-1
usage "SigV4 needs the AWS region: give --aws-region" "${local_sink[@]}" --cassandra-tls
usage "'US_EAST_1' (--aws-region) is not an AWS region name" "${local_sink[@]}" --cassandra-tls --aws-region US_EAST_1
AWS_REGION=nowhere usage "'nowhere' (AWS_REGION) is not an AWS region name" "${local_sink[@]}" --cassandra-tls
usage "region us-east-1 (--aws-region) is not the region of cassandra.eu-west-1.amazonaws.com:9142" \
  --sink "cassandra://cassandra.eu-west-1.amazonaws.com:9142/ks.t" --cassandra-tls --aws-region us-east-1
expect_exit 2 "$TALLY" run --source "file:$tmp/in.jsonl" "${local_sink[@]}" --aws-region us-east-1
expect_contains "$err" "--aws-region is for --cassandra-auth sigv4"
# The flag's environment variable, like every flag's.
expect_exit 2 env TALLY_CASSANDRA_AUTH=sigv4 "$TALLY" run --source "file:$tmp/in.jsonl" "${local_sink[@]}" \
  --aws-region us-east-1
expect_contains "$err" "would send the AWS session token in clear"
expect_exit 2 "$TALLY" "${run[@]}" "${local_sink[@]}" --cassandra-auth kerberos
expect_exit 0 "$TALLY" run --help
expect_contains "$out" "--cassandra-auth"

# No credentials anywhere: exit 1 at once, saying where tally looked and what to set.
expect_exit 1 "$TALLY" "${run[@]}" "${local_sink[@]}" --cassandra-tls --aws-region us-east-1
expect_contains "$err" "--cassandra-auth sigv4: no AWS credentials found"
expect_contains "$err" "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
expect_lines "$err" 1
# A profile asked for that is not there: named, not skipped.
AWS_PROFILE=prod expect_exit 1 "$TALLY" "${run[@]}" "${local_sink[@]}" --cassandra-tls --aws-region us-east-1
expect_contains "$err" "AWS_PROFILE"
# Expired temporary keys.
AWS_ACCESS_KEY_ID=ASIAX AWS_SECRET_ACCESS_KEY=s AWS_SESSION_TOKEN=t AWS_CREDENTIAL_EXPIRATION=2020-01-01T00:00:00Z \
  expect_exit 1 "$TALLY" "${run[@]}" "${local_sink[@]}" --cassandra-tls --aws-region us-east-1
expect_contains "$err" "expired at 2020-01-01T00:00:00"
expect_not_contains "$err" "ASIAX"

# A region that is well formed but has no Keyspaces endpoint: the name does not
# resolve (nor does any name here without a network), and the line says what to check.
AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=secret expect_exit 1 "$TALLY" "${run[@]}" \
  --sink "cassandra://cassandra.xx-nowhere-9.amazonaws.com:9142/ks.t" --cassandra-tls
expect_contains "$err" "Is xx-nowhere-9 a region where Amazon Keyspaces runs"
expect_lines "$err" 1

# A TLS server whose certificate is self-signed for another name.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=other.example -days 2 -keyout "$tmp/key.pem" \
  -out "$tmp/cert.pem" 2>/dev/null
python3 - "$tmp" <<'PY' &
import socket, ssl, sys, threading
d = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/cert.pem", d + "/key.pem")
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(d + "/tls_port.tmp", "w").write(str(s.getsockname()[1]))
__import__("os").rename(d + "/tls_port.tmp", d + "/tls_port")
def serve(c):
    try: ctx.wrap_socket(c, server_side=True).recv(1)
    except Exception: pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
tls_server=$!
await "the TLS server listens" 10 test -s "$tmp/tls_port"
tls_sink=(--sink "cassandra://127.0.0.1:$(cat "$tmp/tls_port")/sigv4_flags.t")
export AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=secret
expect_exit 1 "$TALLY" "${run[@]}" "${tls_sink[@]}" --cassandra-tls --aws-region us-east-1
expect_contains "$err" "TLS handshake with 127.0.0.1"
expect_contains "$err" "self-signed certificate"
expect_exit 1 "$TALLY" "${run[@]}" "${tls_sink[@]}" --cassandra-tls --aws-region us-east-1 --cassandra-ca-file "$tmp/cert.pem"
expect_contains "$err" "host name mismatch"
kill "$tls_server"
wait "$tls_server" 2>/dev/null

finish
