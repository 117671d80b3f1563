# End-to-end: where `tally run` and `tally generate` write their outputs, and
# that no run destroys a file it should not: an output on the input or on
# another output is refused; FIFOs, devices and symbolic links stay what they
# are; a stopped or failed run leaves the previous outputs and no temporary
# file; the outputs of a run appear together; every flag and local path is
# checked before a server is contacted.
# Usage: bash outputs_test.sh /abs/path/to/tally
#
# Runs as root on the project's machines, where a broken tally replaced
# /dev/full itself: the script uses device nodes of its own (the same devices,
# made with mknod in its directory) where it can, and else checks /dev/full
# and /dev/null after each use and puts them back.
source "$(dirname "$0")/lib.sh"

U1=11111111-1111-1111-1111-111111111111
rec() { printf '{"EventUUID":"e0000000-0000-4000-a000-0000000000%s","UserUUID":"%s","EventName":"open","CreatedAt":"%s"}\n' "$1" "$U1" "$2"; }
{
  rec 01 2024-03-10T10:00:00Z
  rec 02 2024-03-11T10:00:00Z
  echo 'not json'
  rec 03 2024-03-12T10:00:00Z
} >ev.jsonl
cp ev.jsonl ev.orig

# The table of a plain run, to compare the other runs with.
expect_exit 0 "$TALLY" run --source file:ev.jsonl --sink csv:ref.csv --dead-letter file:ref.dl
sorted_rows ref.csv >ref.rows
expect_lines ref.rows 3

# reap PID: waits (up to 10 s) for a background reader to end, else kills it:
# a FIFO that a broken binary replaced leaves its reader waiting forever.
reap() {
  local i
  for ((i = 0; i < 200; ++i)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05
  done
  kill "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# temps: the temporary files of outputs left in the directory.
temps() { find . -name '*.tmp-*' | sort | tr '\n' ' '; }

# $FULL and $NULL: a full device and a null device.
if mknod -m 666 full c 1 7 2>/dev/null && mknod -m 666 null c 1 3 2>/dev/null && echo x >null 2>/dev/null &&
  ! echo x >full 2>/dev/null; then
  FULL=$tmp/full NULL=$tmp/null
else
  FULL=/dev/full NULL=/dev/null
fi
# device_intact PATH MAJOR MINOR: PATH is still the character device; if a
# broken binary replaced it, puts it back (as root) and fails.
device_intact() {
  if [[ -c "$1" ]]; then return 0; fi
  rm -f "$1" && mknod -m 666 "$1" c "$2" "$3"
  return 1
}
dev_full_intact() { device_intact "$FULL" 1 7; }

# --- 1. An output on the input, or on another output: exit 2, both named ---------
for flag in "--sink csv:ev.jsonl" "--dead-letter file:ev.jsonl" "--summary ev.jsonl"; do
  # shellcheck disable=SC2086
  expect_exit 2 "$TALLY" run --source file:ev.jsonl $flag
  expect_contains "$err" "$flag"
  expect_contains "$err" "--source file:ev.jsonl"
  expect_file_eq ev.jsonl ev.orig
  cp ev.orig ev.jsonl  # for the next checks, should a broken binary have written it
done
ln -s ev.jsonl link-to-input.csv
expect_exit 2 "$TALLY" run --source file:ev.jsonl --sink csv:link-to-input.csv
expect_file_eq ev.jsonl ev.orig
cp ev.orig ev.jsonl
ln ev.jsonl hard-link-to-input.csv
expect_exit 2 "$TALLY" run --source file:ev.jsonl --sink csv:hard-link-to-input.csv
expect_file_eq ev.jsonl ev.orig
rm hard-link-to-input.csv
cp ev.orig ev.jsonl
# Standard input redirected from the file the csv would replace.
expect_exit 2 "$TALLY" run --source - --sink csv:ev.jsonl <ev.jsonl
expect_contains "$err" "--source -"
expect_file_eq ev.jsonl ev.orig
cp ev.orig ev.jsonl

# Two outputs on one path (one not there yet; spelled differently).
expect_exit 2 "$TALLY" run --source file:ev.jsonl --sink csv:d.out --summary ./d.out
expect_contains "$err" "--summary ./d.out"
expect_contains "$err" "--sink csv:d.out"
expect_exit 2 "$TALLY" run --source file:ev.jsonl --sink csv:c.csv --summary c.csv.dead-letters.jsonl
expect_contains "$err" "the dead letters (by default c.csv.dead-letters.jsonl)"
expect_missing d.out c.csv
expect_eq "$(temps)" "" "temporary files after refused runs"
# Streams may be shared: all three to a null device.
expect_exit 0 "$TALLY" run --source file:ev.jsonl --sink "csv:$NULL" --dead-letter "file:$NULL" --summary "$NULL"
check "the null device is still a character device" device_intact "$NULL" 1 3

# --- 2. FIFOs, devices, symbolic links ---------------------------------------------
mkfifo out.fifo
cat out.fifo >fifo.got &
reader=$!
expect_exit 0 "$TALLY" run --source file:ev.jsonl --sink csv:out.fifo --dead-letter file:fifo.dl
reap "$reader"
check "a FIFO output stays a FIFO" test -p out.fifo
sorted_rows fifo.got >fifo.rows
expect_file_eq fifo.rows ref.rows

echo previous >real.csv
ln -s real.csv link.csv
ln -s new.csv dangling.csv
expect_exit 0 "$TALLY" run --source file:ev.jsonl --sink csv:link.csv --summary dangling.csv --dead-letter file:l.dl
check "a symbolic link output stays a link" test -L link.csv
check "a link to nowhere stays a link" test -L dangling.csv
sorted_rows real.csv >real.rows
expect_file_eq real.rows ref.rows
expect_eq "$(cat new.csv)" '{"records":4,"invalid":1,"late":0,"duplicates":0,"counted":3}' "summary through a dangling link"

# A link to standard output writes to it; the link stays.
ln -s /dev/stdout to-stdout.csv
"$TALLY" run --source file:ev.jsonl --sink csv:to-stdout.csv --dead-letter file:s.dl 2>"$err" | cat >stdout.got
expect_eq "${PIPESTATUS[0]}" 0 "exit status with a link to /dev/stdout"
check "a link to /dev/stdout stays a link" test -L to-stdout.csv
sorted_rows stdout.got >stdout.rows
expect_file_eq stdout.rows ref.rows
# Dead letters by default go beside a csv file, not beside a stream.
"$TALLY" run --source file:ev.jsonl --sink csv:to-stdout.csv 2>"$err" >/dev/null
expect_missing to-stdout.csv.dead-letters.jsonl
expect_lines tally-dead-letters.jsonl 1

# A full device: exit 1, a clear message, the device untouched.
expect_exit 1 "$TALLY" run --source file:ev.jsonl --sink "csv:$FULL" --dead-letter file:full.dl
expect_contains "$err" "cannot write $FULL: No space left on device"
check "the full device is still a character device (csv)" dev_full_intact

# --- 5. The outputs appear together, or none --------------------------------------
echo OLD >t.csv
echo OLD-DL >t.dl
# The summary fails at the end, after the table and the dead letters are written.
expect_exit 1 "$TALLY" run --source file:ev.jsonl --sink csv:t.csv --dead-letter file:t.dl --summary "$FULL"
check "the full device is still a character device (summary)" dev_full_intact
expect_eq "$(cat t.csv)" OLD "csv when the summary failed"
expect_eq "$(cat t.dl)" OLD-DL "dead letters when the summary failed"
# The dead letters fail.
expect_exit 1 "$TALLY" run --source file:ev.jsonl --sink csv:t.csv --dead-letter "file:$FULL"
check "the full device is still a character device (dead letters)" dev_full_intact
expect_eq "$(cat t.csv)" OLD "csv when the dead letters failed"
expect_exit 1 "$TALLY" run --source file:ev.jsonl --sink csv:u.csv --dead-letter file:ev.orig/dl
expect_missing u.csv
expect_eq "$(temps)" "" "temporary files after failed runs"

# --- 4. SIGTERM / SIGINT before the end of a bounded input -------------------------
# The input is a FIFO held open by the test: the job is provably mid-input. An
# invalid record goes first; its dead letter, streamed to another FIFO, says
# the job has read it.
stop_test() {  # SIGNAL EXPECTED_STATUS
  local signal=$1 want=$2
  rm -f in.fifo dl.fifo dl.got
  mkfifo in.fifo dl.fifo
  echo OLD >s.csv
  echo OLD-SUMMARY >s.json
  cat dl.fifo >dl.got &
  local reader=$!
  "$TALLY" run --source file:in.fifo --sink csv:s.csv --dead-letter file:dl.fifo --summary s.json \
    --trigger 50ms 2>"$err" &
  local job=$!
  exec 3>in.fifo
  { echo 'not json'; rec 01 2024-03-10T10:00:00Z; } >&3
  await "the job reads its input" 20 test -s dl.got
  kill -"$signal" "$job"
  wait "$job"
  expect_eq "$?" "$want" "exit status after SIG$signal"
  exec 3>&-
  reap "$reader"
  expect_contains "$err" "stopped by SIG$signal before the end of its input"
  expect_eq "$(cat s.csv)" OLD "csv after SIG$signal"
  expect_eq "$(cat s.json)" OLD-SUMMARY "summary after SIG$signal"
  expect_eq "$(temps)" "" "temporary files after SIG$signal"
}
stop_test TERM 143
stop_test INT 130

# --- 14. Temporary files: none left by a signal; stale ones removed -----------------
# A closed pipe on standard output (SIGPIPE) while the dead letters and the
# summary are still temporary files.
"$TALLY" generate --events 200000 --learners 50000 --days 3 --invalid-ratio 0 --output big.jsonl 2>/dev/null
"$TALLY" run --source file:big.jsonl --sink csv:- --summary p.json --dead-letter file:p.dl 2>/dev/null | head -c 1 >/dev/null
expect_eq "${PIPESTATUS[0]}" 141 "exit status of a run whose output pipe closed (SIGPIPE)"
expect_missing p.json p.dl
expect_eq "$(temps)" "" "temporary files after SIGPIPE"

# A killed writer's temporary file (pid 999999 is not running) goes at the next
# start; that of a live process (this shell) stays.
if kill -0 999999 2>/dev/null; then fail "pid 999999 is alive: pick another"; fi
echo stale >stale.csv.tmp-999999
echo live >stale.csv.tmp-$$
expect_exit 0 "$TALLY" run --source file:ev.jsonl --sink csv:stale.csv --dead-letter file:stale.dl
expect_missing stale.csv.tmp-999999
check "the temporary file of a live process stays" test -f stale.csv.tmp-$$
rm -f stale.csv.tmp-$$

# tally generate killed while it writes.
"$TALLY" generate --events 500000000 --output huge.jsonl 2>/dev/null &
gen=$!
await "generate writes a temporary file" 20 test -s "huge.jsonl.tmp-$gen"
kill -TERM "$gen"
wait "$gen"
expect_eq "$?" 143 "exit status of generate after SIGTERM"
expect_missing huge.jsonl "huge.jsonl.tmp-$gen"

# --- 20. Every flag and local path is checked before a server is contacted --------
# A listener that records whether anything connected to it.
python3 - >port.txt 2>/dev/null <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
s.settimeout(0.2)
end = time.time() + 60
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    open("connected", "w").write("yes")
    c.close()
PY
listener=$!
await "the listener starts" 20 test -s port.txt
port=$(cat port.txt)
for sink in "cassandra://127.0.0.1:1/outputs_ks.t" "cassandra://127.0.0.1:$port/outputs_ks.t"; do
  expect_exit 2 "$TALLY" run --source file:ev.jsonl --sink "$sink" --dead-letter bogus:x --startup-wait 3s
  expect_contains "$err" "--dead-letter 'bogus:x'"
  expect_exit 1 "$TALLY" run --source file:ev.jsonl --sink "$sink" --summary ev.orig/summary.json --startup-wait 3s
  expect_contains "$err" "cannot write ev.orig/summary.json"
  expect_not_contains "$err" "waiting for a server"
done
expect_missing connected
kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null

finish
