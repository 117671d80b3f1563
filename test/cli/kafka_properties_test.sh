# End-to-end: --kafka cannot override a property tally owns (exactly once, the
# restore, the job's identity): each is a usage error, exit 2 naming the key,
# found before anything connects (the broker address below answers nothing, and
# --startup-wait 0s would turn any attempt to reach it into exit 1).
# Usage: bash kafka_properties_test.sh /abs/path/to/tally
source "$(dirname "$0")/lib.sh"

nowhere="kafka://127.0.0.1:1/events"
for kv in isolation.level=read_uncommitted enable.auto.commit=true enable.auto.offset.store=true \
  enable.idempotence=false transactional.id=other auto.offset.reset=latest topic.auto.offset.reset=latest \
  enable.partition.eof=false group.id=other bootstrap.servers=127.0.0.1:9 metadata.broker.list=127.0.0.1:9 \
  acks=1 request.required.acks=0 auto.commit.enable=true allow.auto.create.topics=true; do
  key=${kv%%=*}
  expect_exit 2 "$TALLY" run --source "$nowhere" --state-dir state --startup-wait 0s --kafka "$kv"
  expect_contains "$err" "--kafka '$key': tally sets this property itself"
  expect_missing state
  expect_exit 2 "$TALLY" produce --to "$nowhere" --events 1 --kafka "$kv"
  expect_contains "$err" "'$key': tally sets this property itself"
done

# A tunable one passes the parsing (and then fails to connect: exit 1).
expect_exit 1 "$TALLY" run --source "$nowhere" --state-dir state --startup-wait 0s --kafka session.timeout.ms=30000
expect_not_contains "$err" "tally sets this property itself"

finish
