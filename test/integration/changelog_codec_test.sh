#!/usr/bin/env bash
# The compression of what an exactly-once Kafka job produces, read from the
# local broker's log segments (127.0.0.1:9092, its data under
# build/local-stack/kafka/data):
#   1. the changelog's chunks of counted events are sent uncompressed (they do
#      not compress: LZ4 would be CPU for 1% of their bytes), while the dead
#      letters of the same transactional producer keep its codec (lz4);
#   2. a codec the user chose (--kafka compression.codec=zstd) applies to the
#      changelog too.
# Usage: bash changelog_codec_test.sh /path/to/tally
root=$(cd "$(dirname "$0")/../.." && pwd)  # before lib.sh moves to a temporary directory
stack=$root/scripts/local-stack
data_dir=$root/build/local-stack/kafka/data
source "$(dirname "$0")/../cli/lib.sh"

id="$$_$(date +%s)"
kafka="kafka://127.0.0.1:9092"
topics=()
cleanup() {
  local t
  for t in "${topics[@]}"; do "$stack" kafka-topics --delete --topic "$t" >/dev/null 2>&1 || true; done
}
trap 'cleanup; _on_exit' EXIT

# codecs TOPIC: the codecs of the data batches (not the transaction markers)
# in partition 0 of TOPIC's log segments, by name, sorted, space-separated.
# A record batch: baseOffset int64, batchLength int32, partitionLeaderEpoch
# int32, magic int8, crc int32, attributes int16 (bits 0-2 the codec, bit 5
# a control batch), then batchLength - 9 bytes more.
codecs() {
  python3 - "$data_dir/$1-0" <<'PY'
import glob, struct, sys
names = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
found = set()
for path in sorted(glob.glob(sys.argv[1] + "/*.log")):
    data = open(path, "rb").read()
    i = 0
    while i + 23 <= len(data):
        _, length = struct.unpack(">qi", data[i:i + 12])
        (attributes,) = struct.unpack(">h", data[i + 21:i + 23])
        if not attributes & 0x20:
            found.add(names.get(attributes & 7, "?"))
        i += 12 + length
print(" ".join(sorted(found)))
PY
}

input="kcpu_codec_$id"
topics+=("$input" "$input.dead-letters")
"$1" generate --events 20000 --learners 500 --days 3 --seed 3 --output "$tmp/in.jsonl" 2>/dev/null
expect_exit 0 "$1" produce --from "file:$tmp/in.jsonl" --to "$kafka/$input"

# 1. The default: an uncompressed changelog, lz4 dead letters.
group="kcpu_codec_a_$id"
topics+=("$group-$input-changelog" "$group-$input-settings")
expect_exit 0 timeout 120 "$1" run --source "$kafka/$input" --group "$group" --available-now \
  --state-dir "$tmp/state-a" --sink "csv:$tmp/a.csv"
expect_eq "$(codecs "$group-$input-changelog")" "none" "codecs of the changelog's batches"
expect_eq "$(codecs "$input.dead-letters")" "lz4" "codecs of the dead letters' batches"

# 2. The user's codec wins.
group="kcpu_codec_b_$id"
topics+=("$group-$input-changelog" "$group-$input-settings")
expect_exit 0 timeout 120 "$1" run --source "$kafka/$input" --group "$group" --available-now \
  --state-dir "$tmp/state-b" --sink "csv:$tmp/b.csv" --kafka compression.codec=zstd
expect_eq "$(codecs "$group-$input-changelog")" "zstd" "codecs of the changelog's batches with --kafka compression.codec=zstd"
expect_eq "$(sorted_rows "$tmp/b.csv")" "$(sorted_rows "$tmp/a.csv")" "the two runs' tables"

finish
