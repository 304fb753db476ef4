#!/usr/bin/env bash
# Builds and runs the test suite.
#   scripts/test.sh            release build, every test except those labelled slow
#   scripts/test.sh --debug    the debug preset (AddressSanitizer + UndefinedBehaviorSanitizer)
#   scripts/test.sh --all      both, and the slow tests
# Test data: ../shared (fixtures, vocab, templates) beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
run_preset() {
  local preset=$1; shift
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs" "$@"
}

case "${1:-}" in
  "")      run_preset release -LE slow ;;
  --debug) run_preset debug -LE slow ;;
  --all)   run_preset release && run_preset debug -LE slow ;;
  *) echo "usage: scripts/test.sh [--debug|--all]" >&2; exit 2 ;;
esac
