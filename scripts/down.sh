#!/usr/bin/env bash
# Stops what scripts/up.sh started: gateway, worker, the lab, and Redis if up.sh started it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run="$root/.trunkline/run"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
for name in gateway worker redis; do stop_pidfile "$run/$name.pid"; done
LAB_NAME=${LAB_NAME:-tl} bash infra/lab.sh down
echo "Trunkline is down."
