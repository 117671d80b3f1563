# scripts/cgroup.sh: sourced by scripts/bench and scripts/bench-compare. A cgroup made
# for one measured run holds its whole process tree (children inherit it), so its
# counters are the CPU and memory of everything the run started, JVM threads and
# forked workers included. Needs root (mkdir under /sys/fs/cgroup); without it the
# functions print nothing and the callers say they could not measure.

# cgroup_new NAME: a cgroup for CPU accounting (v1 cpuacct or v2), its path on
# stdout; nothing if none can be made (not root, no controller).
cgroup_new() {
  local dir
  for dir in /sys/fs/cgroup/cpuacct /sys/fs/cgroup; do
    if [[ -f $dir/cpuacct.usage || -f $dir/cgroup.controllers ]] && mkdir -p "$dir/$1" 2>/dev/null; then
      echo "$dir/$1"
      return
    fi
  done
}

# cgroup_cpu DIR: CPU-seconds used by the processes of the cgroup so far.
cgroup_cpu() {
  if [[ -f $1/cpuacct.usage ]]; then awk '{ printf "%.2f", $1 / 1e9 }' "$1/cpuacct.usage"
  else awk '$1 == "usage_usec" { printf "%.2f", $2 / 1e6 }' "$1/cpu.stat"; fi
}

# cgroup_mem_new NAME: a cgroup for peak memory, its path on stdout, or nothing. On
# v1 the memory hierarchy is apart from cpuacct's; it is made under this shell's own
# memory cgroup, so any limit set on the caller still holds for the run. On v2 the
# cgroup of cgroup_new counts memory too (memory.peak), so this prints that one.
cgroup_mem_new() {
  local own
  if [[ -d /sys/fs/cgroup/memory ]]; then
    own=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
    if mkdir -p "/sys/fs/cgroup/memory${own%/}/$1" 2>/dev/null; then echo "/sys/fs/cgroup/memory${own%/}/$1"; fi
  elif [[ -f /sys/fs/cgroup/cgroup.controllers && -d /sys/fs/cgroup/$1 ]]; then
    echo "/sys/fs/cgroup/$1"
  fi
}

# cgroup_mem_peak DIR: the peak memory of the cgroup's processes, in MiB (page cache
# the run caused included, as the kernel charges it); "?" when the kernel keeps no peak.
cgroup_mem_peak() {
  local f
  for f in "$1/memory.max_usage_in_bytes" "$1/memory.peak"; do
    [[ -f $f ]] && { awk '{ printf "%.0f", $1 / 1048576 }' "$f"; return; }
  done
  echo "?"
}

# cgroup_join DIR...: moves the calling (sub)shell into each cgroup; what it runs next
# is counted there.
cgroup_join() {
  local d
  for d in "$@"; do [[ -z $d ]] || echo "$BASHPID" >"$d/cgroup.procs"; done
}

# cgroup_remove DIR...: removes cgroups whose processes have all exited. The kernel
# may refuse (EBUSY) for a moment after the last one is gone: retried for up to 5 s.
cgroup_remove() {
  local d i
  for d in "$@"; do
    [[ -n $d ]] || continue
    for ((i = 0; i < 50; i++)); do
      rmdir "$d" 2>/dev/null && break
      [[ -d $d ]] || break
      sleep 0.1
    done
  done
}
