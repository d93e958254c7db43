#!/usr/bin/env bash
# Prints a Redis URL that answers: TRUNKLINE_REDIS_URL if it does, else a local redis-server
# started here (loopback only, no persistence) whose pid goes to .trunkline/run/redis.pid.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
url=${TRUNKLINE_REDIS_URL:-redis://127.0.0.1:6379}
if [[ $(redis-cli -u "$url" ping 2>/dev/null) == PONG ]]; then
  echo "$url"
  exit 0
fi
if [[ ! $url =~ ^redis://(127\.0\.0\.1|localhost)(:([0-9]+))?/?$ ]]; then
  echo "ensure-redis: $url does not answer and is not local; start it or unset TRUNKLINE_REDIS_URL" >&2
  exit 1
fi
port=${BASH_REMATCH[3]:-6379}
mkdir -p "$root/.trunkline/run" "$root/.trunkline/logs"
echo "ensure-redis: no Redis answers at $url; starting redis-server on 127.0.0.1:$port" >&2
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
  --pidfile "$root/.trunkline/run/redis.pid" --logfile "$root/.trunkline/logs/redis.log"
for _ in $(seq 1 100); do
  [[ $(redis-cli -u "$url" ping 2>/dev/null) == PONG ]] && { echo "$url"; exit 0; }
  sleep 0.05
done
echo "ensure-redis: redis-server did not answer; see $root/.trunkline/logs/redis.log" >&2
exit 1
