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
# API tokens: the server pepper their hashes are keyed with, made once, kept outside Redis.
secrets="$root/.trunkline/secrets"; mkdir -p "$secrets"; chmod 700 "$secrets"
if [ -z "${TRUNKLINE_AUTH_PEPPER_FILE:-}${TRUNKLINE_AUTH_PEPPER:-}" ]; then
  export TRUNKLINE_AUTH_PEPPER_FILE="$secrets/token-pepper"
  [ -s "$TRUNKLINE_AUTH_PEPPER_FILE" ] || (umask 077 && node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))' >"$TRUNKLINE_AUTH_PEPPER_FILE")
fi

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
# Up once it answers at all (401 without a token is an answer).
for _ in $(seq 1 150); do
  if curl -sS -o /dev/null "http://$host:$port/healthz" 2>/dev/null; then break; fi
  if ! kill -0 "$(cat "$run/gateway.pid")" 2>/dev/null; then
    echo "gateway exited; last log lines:" >&2; tail -20 "$logs/gateway.log" >&2; exit 1
  fi
  sleep 0.1
done
curl -sS -o /dev/null "http://$host:$port/healthz" || { echo "gateway did not answer on $url" >&2; exit 1; }
kill -0 "$(cat "$run/worker.pid")" 2>/dev/null || { echo "worker exited:" >&2; tail -20 "$logs/worker.log" >&2; exit 1; }

# The first admin token: kept in a file only root reads; made again when Redis no longer knows it.
token_file="$secrets/admin-token"
auth_ok() { [ -s "$token_file" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $(cat "$token_file")" "${url%/graphql}/api/v1/me")" = 200 ]; }
if ! auth_ok; then
  (umask 077 && node gateway/token-command.ts create --name lab-admin --role admin >"$token_file")
fi
auth="authorization: Bearer $(cat "$token_file")"

# The CLI's config (docs/cli.md), written once so that `trunkline` needs no flags on this machine
# (as kind writes a kubeconfig); an existing one is the operator's and is left alone.
cli_config="${XDG_CONFIG_HOME:-$HOME/.config}/trunkline/config.yaml"
if [ ! -e "$cli_config" ]; then
  mkdir -p "$(dirname "$cli_config")"
  (umask 077 && printf 'url: %s\ntokenFile: %s\n' "${url%/graphql}" "$token_file" >"$cli_config")
  cli_note="configured in $cli_config (url, tokenFile)"
else
  cli_note="$cli_config was there already and is left as it is"
fi

# Read every host now (through the worker), so the first change is planned from what the lab
# looks like, not from state an earlier run left in a Redis that outlived its lab.
hosts=$(curl -s "$url" -H "$auth" -H 'content-type: application/json' \
  -d '{"query":"{ hypervisors(refresh: true) { name status } }"}' |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).data.hypervisors.map(h=>h.name+" "+h.status).join(", "))}catch{console.log("(not read yet)")}})')

# The lab's VLANs (the reference setup's 1001 and 1002 on every lab host; LAB_VLANS= for none),
# made through the API with the CLI like any change: idempotent, a re-run changes nothing.
cli() { TRUNKLINE_URL="${url%/graphql}" TRUNKLINE_TOKEN="$(cat "$token_file")" bash bin/trunkline "$@"; }
lab_vlans=${LAB_VLANS-1001,1002}
vlans_note=none
if [ -n "$lab_vlans" ]; then
  lab_hosts=$(cli hosts -o value -c name | paste -sd, -)
  for tag in ${lab_vlans//,/ }; do
    # Its progress goes to a log of its own; a failure says where to look.
    if ! cli vlan ensure "$tag" --hosts "$lab_hosts" --ticket lab-setup --wait -o value -c state >>"$logs/lab-setup.log" 2>&1; then
      echo "warning: VLAN $tag could not be ensured on $lab_hosts (last lines of $logs/lab-setup.log):" >&2
      tail -5 "$logs/lab-setup.log" >&2
    fi
  done
  vlans_note="$lab_vlans on $lab_hosts (LAB_VLANS)"
fi

cat <<MSG

Trunkline is up.
  Web UI:    ${url%/graphql}/ui   (topology, VLANs, jobs; sign in with the token below)
  CLI:       npx trunkline --help   ($cli_note; npm install -g . puts trunkline on PATH)
  GraphQL:   $url   (subscriptions over SSE on the same URL; WebSocket: ${url/http/ws})
             GraphiQL in a browser at that URL (introspection: $TRUNKLINE_GRAPHQL_INTROSPECTION; sign in with any user name, the token as password)
  REST:      ${url%/graphql}/api/v1   (reference: ${url%/graphql}/api/docs, contract: openapi.yaml)
  Token:     $token_file   (an admin of every host: send it as Authorization: Bearer; npm run token -- create for more)
  Metrics:   ${url%/graphql}/metrics (with the token); worker: $([ "${TRUNKLINE_WORKER_METRICS_PORT:-9464}" = 0 ] && echo off || echo "http://${TRUNKLINE_WORKER_METRICS_HOST:-127.0.0.1}:${TRUNKLINE_WORKER_METRICS_PORT:-9464}/metrics")   (docs/metrics.md; Grafana: infra/grafana/trunkline-dashboard.json)
  Redis:     $TRUNKLINE_REDIS_URL
  Inventory: $TRUNKLINE_INVENTORY
  Hosts:     $hosts
  VLANs:     $vlans_note
  Logs:      $logs/{gateway,worker}.log
  Stop:      npm stop

Try:
  npx trunkline hosts
  npx trunkline vlan ensure 1003 --hosts hv1,hv2 --ticket CHG-1   # live progress here and on ${url%/graphql}/ui#/jobs
  export TRUNKLINE_TOKEN=\$(cat $token_file)
  curl -s $url -H "authorization: Bearer \$TRUNKLINE_TOKEN" -H 'content-type: application/json' \\
    -d '{"query":"{ hypervisors { name address status bridges { name ports { name tag trunks } } } }"}'
  curl -s ${url%/graphql}/api/v1/vlans/1001 -H "authorization: Bearer \$TRUNKLINE_TOKEN"
MSG
