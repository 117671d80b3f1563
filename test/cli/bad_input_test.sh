# End-to-end: how `tally` refuses what it cannot do. Bad flags and flag values
# exit 2 naming the flag or value and write nothing; an input it cannot read or
# an output it cannot write exits 1 with one line naming the path and leaves no
# output behind, not even a partial or temporary one.
# Usage: bash bad_input_test.sh /abs/path/to/tally
source "$(dirname "$0")/lib.sh"

valid='{"EventUUID":"e0000000-0000-4000-a000-000000000001","UserUUID":"11111111-1111-1111-1111-111111111111","EventName":"a","CreatedAt":"2024-03-10T10:00:00Z"}'
invalid='{"EventUUID":"nope"}'

n=0
# fresh_dir: a new empty working directory holding in.jsonl (one valid and one
# invalid record, so every output would have content); sets $d and cd's there.
fresh_dir() {
  n=$((n + 1))
  d="$tmp/case$n"
  mkdir "$d" && cd "$d" || exit 1
  case_name=""
  printf '%s\n%s\n' "$valid" "$invalid" >in.jsonl
}

# expect_only_input: the working directory holds nothing but what fresh_dir
# made there (and the extra names given), so the run wrote nothing.
expect_only_input() {
  local want
  want=$(printf '%s\n' in.jsonl "$@" | LC_ALL=C sort | tr '\n' ' ')
  expect_eq "$(ls -A "$d" | LC_ALL=C sort | tr '\n' ' ')" "$want" "files in the working directory${case_name:+ after $case_name}"
}

# usage_error TEXT ARGS...: `tally ARGS...` in a fresh directory exits 2, says
# TEXT on stderr, prints nothing on stdout and writes no file.
usage_error() {
  local text=$1
  shift
  fresh_dir
  expect_exit 2 "$TALLY" "$@"
  expect_contains "$err" "$text"
  expect_eq "$(wc -c <"$out")" 0 "bytes on stdout for [$*]"
  expect_only_input
}

# Flags of a run that would write every output into the working directory.
outputs=(--sink "csv:out.csv" --summary summary.json)

usage_error "--bogus" run --source file:in.jsonl "${outputs[@]}" --bogus
usage_error "--bogus" run --bogus 1 --source file:in.jsonl "${outputs[@]}"
usage_error "--source is required" run "${outputs[@]}"
usage_error "--source 'bogus:x'" run --source bogus:x "${outputs[@]}"
usage_error "--source 'file:'" run --source file: "${outputs[@]}"
usage_error "--sink 'bogus'" run --source file:in.jsonl --sink bogus --summary summary.json
usage_error "--sink 'csv:'" run --source file:in.jsonl --sink csv: --summary summary.json
usage_error "--dead-letter 'bogus:x'" run --source file:in.jsonl "${outputs[@]}" --dead-letter bogus:x
usage_error "--lateness" run --source file:in.jsonl "${outputs[@]}" --lateness 7x
expect_contains "$err" "'7x'"
usage_error "--lateness" run --source file:in.jsonl "${outputs[@]}" --lateness -1d
expect_contains "$err" "'-1d'"
usage_error "--lateness" run --source file:in.jsonl "${outputs[@]}" --lateness ""
usage_error "--trigger" run --source file:in.jsonl "${outputs[@]}" --trigger abc
expect_contains "$err" "'abc'"
usage_error "--input-timezone 'Mars/Base'" run --source file:in.jsonl "${outputs[@]}" --input-timezone Mars/Base
usage_error "--max-record-bytes" run --source file:in.jsonl "${outputs[@]}" --max-record-bytes 0
usage_error "--max-record-bytes" run --source file:in.jsonl "${outputs[@]}" --max-record-bytes abc
usage_error "--max-record-bytes" run --source file:in.jsonl "${outputs[@]}" --max-record-bytes -5
usage_error "--console-rows" run --source file:in.jsonl --console-rows -1
usage_error "nonexistent.toml" run --source file:in.jsonl "${outputs[@]}" --config nonexistent.toml
usage_error "frobnicate" frobnicate --source file:in.jsonl
usage_error "subcommand" --source file:in.jsonl
usage_error "subcommand"
# The same bad values from the environment.
TALLY_LATENESS=7x usage_error "7x" run --source file:in.jsonl "${outputs[@]}"
TALLY_SINK=bogus usage_error "--sink 'bogus'" run --source file:in.jsonl

# --- Help and version ---------------------------------------------------------------
fresh_dir
expect_exit 0 "$TALLY" --help
expect_contains "$out" "run"
expect_exit 0 "$TALLY" run --help
for flag in --source --sink --summary --dead-letter --lateness --input-timezone --trigger --event-id-field \
  --user-id-field --event-name-field --created-at-field --max-record-bytes --console-rows --config; do
  expect_contains "$out" "$flag"
done
expect_exit 0 "$TALLY" --version
expect_contains "$out" "tally"
expect_only_input

# --- An input it cannot read: exit 1, one line naming the path, nothing written ----------------
# run_failure PATH ARGS...: `tally ARGS...` exits 1 with one line on stderr naming PATH.
run_failure() {
  local path=$1
  shift
  expect_exit 1 "$TALLY" "$@"
  expect_eq "$(wc -l <"$err")" 1 "lines on stderr for [$*]"
  expect_contains "$err" "$path"
}
fresh_dir
run_failure "$d/missing.jsonl" run --source "file:$d/missing.jsonl" "${outputs[@]}"
expect_only_input
mkdir "$d/adir"
run_failure "$d/adir" run --source "file:$d/adir" "${outputs[@]}"
expect_only_input adir

# --- An output it cannot write: exit 1, one line naming the path, no output at all -------------
# As root, permissions stop nothing: the bad paths lie below a regular file, in
# a directory that does not exist, or are an existing directory.
bad_output() {  # bad_output KIND BAD_PATH: runs with that output at BAD_PATH, the others fine
  local kind=$1 bad=$2
  case_name="a run with the $kind output at $bad"
  local args=(run --source file:in.jsonl --sink csv:out.csv --dead-letter file:dead.jsonl --summary summary.json)
  case $kind in
    csv) args[4]="csv:$bad" ;;
    dead-letter) args[6]="file:$bad" ;;
    summary) args[8]="$bad" ;;
  esac
  run_failure "$bad" "${args[@]}"
}
for kind in csv dead-letter summary; do
  fresh_dir
  : >afile
  bad_output "$kind" "$d/afile/out"
  expect_only_input afile
  expect_eq "$(cat afile)" "" "the regular file in the bad path is left alone"

  fresh_dir
  bad_output "$kind" "$d/nodir/out"
  expect_only_input

  # An existing directory can be opened as nothing but fails the final rename:
  # the outputs committed before it must not be left as if the run had succeeded.
  fresh_dir
  mkdir adir
  bad_output "$kind" "$d/adir"
  expect_only_input adir
  expect_eq "$(ls -A adir)" "" "files written into the directory"
done
# The default dead-letter path, beside an unwritable csv path.
fresh_dir
: >afile
run_failure "$d/afile/out.csv" run --source file:in.jsonl --sink "csv:$d/afile/out.csv" --summary summary.json
expect_only_input afile
# The summary to standard output, with an unwritable dead-letter file: nothing on stdout.
fresh_dir
run_failure "$d/nodir/dead.jsonl" run --source file:in.jsonl --sink csv:out.csv --summary - --dead-letter "file:$d/nodir/dead.jsonl"
expect_eq "$(wc -c <"$out")" 0 "bytes on stdout"
expect_only_input

finish
