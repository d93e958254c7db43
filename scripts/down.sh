#!/usr/bin/env bash
# Stops what scripts/up.sh started: gateway, worker, the lab, and Redis if up.sh started it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run="$root/.trunkline/run"
for name in gateway worker redis; do
  f="$run/$name.pid"
  [[ -f $f ]] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"; for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
done
LAB_NAME=${LAB_NAME:-tl} bash infra/lab.sh down
echo "Trunkline is down."
