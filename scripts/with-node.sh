#!/usr/bin/env bash
# Runs a command with Node.js 24 first on PATH (see node-runtime.sh), e.g. from package.json.
set -euo pipefail
# shellcheck source=scripts/node-runtime.sh
source "$(dirname "$0")/node-runtime.sh"
exec "$@"
