#!/usr/bin/env bash
# The container image's runtime file list, without a container: deploy/runtime-files
# (which deploy/Dockerfile's build stage runs) copies the binary and its ldd
# libraries into an empty root; in a chroot of that root, with nothing else, the
# binary must print its version and run a file job to the same table and summary
# as outside (the same table, row order aside). Catches a library the list misses (the loader refuses to start) and
# a file the job reads at run time that the image would not carry.
# Needs root (chroot); prints why and passes nothing else when it is not root.
source "$(dirname "$0")/lib.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "runtime_files_test: skipped: chroot needs root" >&2
  finish
fi

repo=$(cd "$CLI_TEST_DIR/../.." && pwd)
root="$tmp/root"

expect_exit 0 "$repo/deploy/runtime-files" "$TALLY" "$root"
expect_contains "$out" "/usr/local/bin/tally"
expect_contains "$out" "ld-linux"
# Debian 12 is usr-merged: the ELF interpreter's path goes through /lib64.
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
mkdir -p "$root/proc" "$root/data"

# Runs tally in the chroot; /proc is mounted in a private mount namespace when
# the kernel allows it (the process figures of /metrics read /proc/self, and a
# sanitizer build needs /proc/self/maps), so nothing leaks into the host's mounts.
in_root() {
  if unshare --mount --fork true 2>/dev/null; then
    unshare --mount --fork -- sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" "$@"
  else
    chroot "$root" "$@"
  fi
}

expect_exit 0 in_root /usr/local/bin/tally --version
expect_contains "$out" "tally"

"$TALLY" generate --events 2000 --learners 50 --days 3 --invalid-ratio 0.02 --duplicate-ratio 0.05 \
  --output "$root/data/events.jsonl" 2>/dev/null
expect_exit 0 "$TALLY" run --source "file:$root/data/events.jsonl" --sink "csv:$tmp/host.csv" \
  --summary "$tmp/host.json" --dead-letter "file:$tmp/host-dead.jsonl"
expect_exit 0 in_root /usr/local/bin/tally run --source file:/data/events.jsonl --sink csv:/data/out.csv \
  --summary /data/summary.json --dead-letter file:/data/dead.jsonl
# Row order follows a hash table's: compare the tables as sets of rows.
sort "$root/data/out.csv" >"$tmp/root-sorted.csv"
sort "$tmp/host.csv" >"$tmp/host-sorted.csv"
expect_file_eq "$tmp/root-sorted.csv" "$tmp/host-sorted.csv"
expect_file_eq "$root/data/summary.json" "$tmp/host.json"
expect_contains "$root/data/summary.json" '"invalid":'

finish
