# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=bash
# Signalling the processes a test started, and only those.
#
#   bf_kill_children SIGNAL PID...   signals each PID that is still a child
#                                    of this shell
#
# A test keeps the pids it started ($!) and signals them all when it ends.
# A pid whose process ended and was reaped may belong to another program by
# then: pid_max is 32768 on these machines and a suite of ~190 tests wraps it
# in minutes, so a cleanup that signalled every recorded pid could kill a
# test running beside it (its Xvfb, its sender). A child that still runs, or
# has ended and waits to be reaped, has this shell as its parent; a reused
# pid does not.
bf_kill_children() {
  local sig=$1 p st ppid
  shift
  for p in "$@"; do
    st=$(cat "/proc/$p/stat" 2> /dev/null) || continue
    # after "pid (comm) " come state and ppid (comm may hold spaces and parentheses)
    read -r _ ppid _ <<< "${st##*) }"
    [ "$ppid" = "$$" ] && kill "-$sig" "$p" 2> /dev/null
  done
  return 0
}
