#!/usr/bin/env bash
# Integration test of the local stack itself (scripts/local-stack), run by ctest
# after the local_stack fixture has started it: both services report running, and
# the wrappers the other tests and the demo use as independent clients work — a
# topic is created, a record produced and consumed back through Kafka, a row
# written and read back through cqlsh. Usage: local_stack_test.sh [path/to/tally]
# (the binary is not needed here). Bounded: each step gets at most 30 s, all of
# them together 50 s, the clean-up 10 s more.
set -euo pipefail

stack=$(cd "$(dirname "$0")/../.." && pwd)/scripts/local-stack
run_id="$$_$(date +%s)"
topic="local-stack-test-$run_id"
keyspace="local_stack_test_$run_id"
passed=0
failed=0
deadline=$((SECONDS + 50))

check() { # NAME COMMAND...: one step (a command or a function below), bounded in time
  local name=$1 budget=$((deadline - SECONDS))
  shift
  ((budget <= 30)) || budget=30
  ((budget >= 1)) || budget=1
  if out=$(timeout "$budget" bash -e -o pipefail -c '"$@"' check "$@" 2>&1); then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    printf '%s\n' "$out" | tail -n 20 | sed 's/^/     /'
  fi
}

status_both_running() {
  local s
  s=$("$stack" status)
  grep -q '^kafka  *running  127.0.0.1:9092' <<<"$s" && grep -q '^cassandra running  127.0.0.1:9042' <<<"$s"
}

produce_and_consume() {
  local line="hello from local_stack_test $run_id" got
  "$stack" kafka-console-producer --topic "$topic" <<<"$line"
  got=$("$stack" kafka-console-consumer --topic "$topic" --from-beginning --max-messages 1 \
    --timeout-ms 20000 2>/dev/null)
  [[ $got == "$line" ]] || { echo "consumed '$got', expected '$line'"; return 1; }
}

cql_roundtrip() {
  local got
  "$stack" cqlsh -e "CREATE KEYSPACE $keyspace WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};
    CREATE TABLE $keyspace.t (k text PRIMARY KEY, n int);
    INSERT INTO $keyspace.t (k, n) VALUES ('learner', 42);"
  got=$("$stack" cqlsh -e "SELECT n FROM $keyspace.t WHERE k = 'learner'")
  grep -qE '^ +42$' <<<"$got" || { echo "$got"; return 1; }
}

cleanup() {
  timeout 5 "$stack" cqlsh -e "DROP KEYSPACE IF EXISTS $keyspace" >/dev/null 2>&1 || true
  timeout 5 "$stack" kafka-topics --delete --topic "$topic" >/dev/null 2>&1 || true
}
trap cleanup EXIT
export stack run_id topic keyspace
export -f status_both_running produce_and_consume cql_roundtrip

check "status: kafka and cassandra running" status_both_running
check "cqlsh: release_version" bash -c "'$stack' cqlsh -e 'SELECT release_version FROM system.local' | grep -q '5\.0\.'"
check "kafka-topics --create" "$stack" kafka-topics --create --topic "$topic" --partitions 1 --replication-factor 1
check "kafka-topics --list" bash -c "'$stack' kafka-topics --list | grep -qx '$topic'"
check "produce and consume a record" produce_and_consume
check "cqlsh: write and read a row" cql_roundtrip

echo "local_stack_test: $passed passed, $failed failed"
((failed == 0))
