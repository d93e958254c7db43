#!/usr/bin/env bash
# Brings the whole system up on this machine (as root): system packages, npm dependencies,
# Redis (if none answers), a lab of hypervisors, a worker and a gateway. Safe to run again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run="$root/.trunkline/run"; logs="$root/.trunkline/logs"
mkdir -p "$run" "$logs"

bash infra/install-deps.sh
# shellcheck source=scripts/node-runtime.sh
source scripts/node-runtime.sh
bash scripts/node-deps.sh
export TRUNKLINE_REDIS_URL; TRUNKLINE_REDIS_URL=$(bash scripts/ensure-redis.sh)
export LAB_NAME=${LAB_NAME:-tl} LAB_HOSTS=${LAB_HOSTS:-2}
bash infra/lab.sh up
export TRUNKLINE_INVENTORY=${TRUNKLINE_INVENTORY:-/run/trunkline/lab-$LAB_NAME/inventory.json}
port=${TRUNKLINE_LISTEN_PORT:-4000}; host=${TRUNKLINE_LISTEN_HOST:-127.0.0.1}
# The lab is for development: schema introspection and GraphiQL on (off by default elsewhere).
export TRUNKLINE_GRAPHQL_INTROSPECTION=${TRUNKLINE_GRAPHQL_INTROSPECTION:-true}

# shellcheck source=scripts/lib.sh
source scripts/lib.sh
# A re-run replaces the processes, so they pick up new code and settings.
stop_pidfile "$run/gateway.pid"
stop_pidfile "$run/worker.pid"

start() { # name entry
  # NODE_ENV=production turns off graphql-js's development checks (a few ms per large query).
  NODE_ENV=${NODE_ENV:-production} nohup node "$2" >>"$logs/$1.log" 2>&1 &
  echo $! >"$run/$1.pid"
}
start worker workers/main.ts
start gateway gateway/main.ts

url="http://$host:$port/graphql"
for _ in $(seq 1 150); do
  if curl -fsS "http://$host:$port/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$(cat "$run/gateway.pid")" 2>/dev/null; then
    echo "gateway exited; last log lines:" >&2; tail -20 "$logs/gateway.log" >&2; exit 1
  fi
  sleep 0.1
done
curl -fsS "http://$host:$port/healthz" >/dev/null || { echo "gateway did not answer on $url" >&2; exit 1; }
kill -0 "$(cat "$run/worker.pid")" 2>/dev/null || { echo "worker exited:" >&2; tail -20 "$logs/worker.log" >&2; exit 1; }

# Read every host now (through the worker), so the first change is planned from what the lab
# looks like, not from state an earlier run left in a Redis that outlived its lab.
hosts=$(curl -s "$url" -H 'content-type: application/json' \
  -d '{"query":"{ hypervisors(refresh: true) { name status } }"}' |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).data.hypervisors.map(h=>h.name+" "+h.status).join(", "))}catch{console.log("(not read yet)")}})')

cat <<MSG

Trunkline is up.
  GraphQL:   $url   (subscriptions over SSE on the same URL; WebSocket: ${url/http/ws})
             GraphiQL in a browser at that URL (introspection: $TRUNKLINE_GRAPHQL_INTROSPECTION)
  REST:      ${url%/graphql}/api/v1   (reference: ${url%/graphql}/api/docs, contract: openapi.yaml)
  Redis:     $TRUNKLINE_REDIS_URL
  Inventory: $TRUNKLINE_INVENTORY
  Hosts:     $hosts
  Logs:      $logs/{gateway,worker}.log
  Stop:      npm stop

Try:
  curl -s $url -H 'content-type: application/json' \\
    -d '{"query":"{ hypervisors { name address status bridges { name ports { name tag trunks } } } }"}'
  curl -s ${url%/graphql}/api/v1/vlans/1001
MSG
