#!/usr/bin/env bash
# Installs the exact npm dependencies from package-lock.json when node_modules is missing, stale,
# lacks the devDependencies, or was installed by another Node.js major (native addons).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/node-runtime.sh
source scripts/node-runtime.sh
stamp=node_modules/.trunkline-node-major
major=$(node -p 'process.versions.node.split(".")[0]')
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json || ! -x node_modules/.bin/tsc || "$(cat "$stamp" 2>/dev/null)" != "$major" ]]; then
  npm ci --no-audit --no-fund --include=dev
  echo "$major" >"$stamp"
fi
