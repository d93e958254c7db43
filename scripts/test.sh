#!/usr/bin/env bash
# Installs what the tests need (system packages, npm dependencies) and runs every test:
# type check, unit tests, and end-to-end tests on a private Redis and a private lab.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash infra/install-deps.sh
# shellcheck source=scripts/node-runtime.sh
source scripts/node-runtime.sh
bash scripts/node-deps.sh
echo "== node $(node -v)"
mkdir -p .trunkline
echo "== type check (server, CLI and tests; the browser UI with DOM types)"
node_modules/.bin/tsc --noEmit
node_modules/.bin/tsc --noEmit -p ui
echo "== lint and format (biome)"
node_modules/.bin/biome check
echo "== shellcheck"
shellcheck -x .ci/run bin/trunkline infra/*.sh scripts/*.sh test/fixtures/*.sh
echo "== tests"
status=0
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json=.trunkline/test-results.json "$@" || status=$?
# One plain summary line that any CI understands.
# shellcheck disable=SC2016 # JavaScript: the ${...} are template literals, not shell expansions
node -e '
  const r = JSON.parse(require("fs").readFileSync(".trunkline/test-results.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
exit $status
