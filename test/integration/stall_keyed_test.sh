#!/usr/bin/env bash
# stall_test.sh on a topic keyed by learner, every process with
# --input-keyed-by-user (no repartition step): the zombie is a counting task
# that reads the input directly.
# Usage: bash stall_keyed_test.sh /path/to/tally
keyed=1 exec bash "$(dirname "$0")/stall_test.sh" "$@"
