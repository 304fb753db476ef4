#!/usr/bin/env bash
# End-to-end tests: the official openai npm client against a real `inferd serve` process.
#   scripts/e2e.sh                 uses build/release/apps/inferd/inferd (build it first)
# Environment:
#   INFERD_BIN=PATH                another inferd binary
#   INFERD_E2E_MODEL=PATH.gguf     serve this model instead of the built-in demo model
# Needs Node.js 20.11+ and npm; installs tests/e2e/node_modules from package-lock.json when it is
# missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "e2e: '$tool' not found; install Node.js 20.11 or newer with npm" >&2
    exit 1
  fi
done
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 11) ? 0 : 1)'; then
  echo "e2e: Node.js $(node --version) is too old; 20.11 or newer is needed" >&2
  exit 1
fi

export INFERD_BIN=$(realpath -m "${INFERD_BIN:-$root/build/release/apps/inferd/inferd}")
if [[ ! -x $INFERD_BIN ]]; then
  echo "e2e: no inferd binary at $INFERD_BIN; build it with" >&2
  echo "     cmake --preset release && cmake --build --preset release" >&2
  exit 1
fi
if [[ -n ${INFERD_E2E_MODEL:-} ]]; then
  export INFERD_E2E_MODEL=$(realpath -m "$INFERD_E2E_MODEL")
fi

cd tests/e2e
# npm writes node_modules/.package-lock.json on every install; older than the lockfile = stale.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --prefer-offline --no-audit --no-fund
fi
npm test
