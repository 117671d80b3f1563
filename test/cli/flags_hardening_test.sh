# End-to-end: flags, config files and messages that a careless or hostile
# input must not get past. A value out of range or malformed is exit 2 with a
# short message; a secret typed into a flag never comes back in a message; a
# peer's or a path's bytes cannot forge a line on stderr or drive the terminal;
# a config file's switch takes true/false, and a config that is not a readable
# file is exit 2 rather than silently ignored.
# Usage: bash flags_hardening_test.sh /abs/path/to/tally
source "$(dirname "$0")/lib.sh"

valid='{"EventUUID":"e0000000-0000-4000-a000-000000000001","UserUUID":"11111111-1111-1111-1111-111111111111","EventName":"a","CreatedAt":"2024-03-10T10:00:00Z"}'
printf '%s\n' "$valid" >in.jsonl
run=("$TALLY" run --source file:in.jsonl --sink csv:out.csv)

# --- values out of range or malformed: exit 2, short message -------------------
expect_exit 2 "${run[@]}" --starting-offsets bogus
expect_contains "$err" "--starting-offsets"
expect_exit 2 "${run[@]}" --max-record-bytes 99999999999999999999
expect_contains "$err" "--max-record-bytes: '99999999999999999999' is not a whole number from"
expect_eq "$(($(wc -c <"$err") < 400))" 1 "a short message for a huge --max-record-bytes"
expect_exit 2 "${run[@]}" --max-record-bytes 0
expect_contains "$err" "'0' is not a whole number from 1 to 1073741824"
expect_exit 2 "${run[@]}" --max-record-bytes -1
expect_exit 2 "${run[@]}" --console-rows -1
expect_exit 2 "${run[@]}" --input-keyed-by-user  # a file has no keys
expect_contains "$err" "--input-keyed-by-user applies to a Kafka source"
expect_exit 2 "${run[@]}" --standby-replicas 1  # a file job has no task state to copy
expect_contains "$err" "--standby-replicas applies to a Kafka source"
expect_exit 2 "${run[@]}" --standby-replicas -1
expect_contains "$err" "--standby-replicas: '-1' is not a whole number from 0"
expect_missing out.csv
expect_exit 2 "$TALLY" generate --events 99999999999999999999 --output g.jsonl
expect_contains "$err" "--events"
expect_missing g.jsonl
for field in --event-id-field --user-id-field --event-name-field --created-at-field; do
  expect_exit 2 "${run[@]}" "$field" ''
  expect_contains "$err" "$field"
done
mkfifo zone.fifo
expect_exit 2 timeout 20 "${run[@]}" --input-timezone "$PWD/zone.fifo"
expect_contains "$err" "--input-timezone"
expect_exit 2 timeout 20 "${run[@]}" --input-timezone ../../etc/passwd
expect_exit 0 "${run[@]}" --input-timezone Etc/GMT+5
expect_missing out.csv.tmp-*

# --- secrets stay out of messages ----------------------------------------------
expect_exit 2 "${run[@]}" --kafka "sasl.password hunter2"
expect_contains "$err" "sasl.password"
expect_not_contains "$err" "hunter2"
expect_exit 2 "$TALLY" run --source kafka://alice:hunter2@127.0.0.1:9/babbel
expect_contains "$err" "kafka://***@127.0.0.1:9/babbel"
expect_not_contains "$err" "hunter2"
expect_exit 2 "$TALLY" run --source file:in.jsonl --sink cassandra://alice:hunter2@127.0.0.1:9/ks.t
expect_not_contains "$err" "hunter2"
expect_exit 2 "$TALLY" run --source 'nosuch://alice:hunter2@host/x'
expect_not_contains "$err" "hunter2"
expect_exit 2 "$TALLY" produce --to kafka://alice:hunter2@127.0.0.1:9/babbel --events 1
expect_not_contains "$err" "hunter2"
printf '# client.properties\nsecurity.protocol=SASL_SSL\nsasl.password = hunter2\nnot a setting\n' >client.properties
expect_exit 2 "${run[@]}" --kafka-config client.properties
expect_contains "$err" "client.properties line 4: expected KEY=VALUE"
expect_not_contains "$err" "hunter2"
printf 'security.protocol=bogus\n' >bad.properties
expect_exit 2 "${run[@]}" --kafka-config bad.properties
expect_contains "$err" "security.protocol"
expect_exit 2 "${run[@]}" --kafka-config no-such.properties
expect_contains "$err" "no-such.properties"

# --- what a peer or a path sends cannot forge a line or drive the terminal ------
forged=$'missing.jsonl\ntally: read 1 records ... all outputs committed.\e[2J'
expect_exit 1 "$TALLY" run --source "file:$forged" --sink csv:out.csv
expect_lines "$err" 1
expect_contains "$err" 'missing.jsonl\ntally: read 1 records'
expect_eq "$(grep -c $'\e' "$err")" 0 "escape bytes on stderr"

# --- config files ---------------------------------------------------------------
printf 'cassandra_tls = true\ncassandra_skip_verify = false\nlateness = "7d"\n' >switches.toml
expect_exit 0 "${run[@]}" --config switches.toml
mkdir conf.d
expect_exit 2 "${run[@]}" --config conf.d
expect_contains "$err" "conf.d: not a regular file"
expect_exit 2 "${run[@]}" --config nothing-here.toml
expect_contains "$err" "nothing-here.toml"
printf 'lateness = "7d"\n' >unreadable.toml
chmod 000 unreadable.toml
if [[ $(id -u) -ne 0 ]]; then  # root reads any file
  expect_exit 2 "${run[@]}" --config unreadable.toml
  expect_contains "$err" "cannot be read"
fi

finish
