#!/usr/bin/env bash
# Sourced by scripts/up.sh and scripts/down.sh: helpers they share.

# Stops the process named by pid FILE (SIGTERM, then SIGKILL after 5 s) and removes FILE.
# A missing FILE or a process that is already gone is fine.
stop_pidfile() {  # FILE
  local f=$1
  [[ -f $f ]] || return 0
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
