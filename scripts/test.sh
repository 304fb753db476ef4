#!/usr/bin/env bash
# Builds and runs the test suite.
#   scripts/test.sh            release build, every test except those labelled slow, and the
#                              end-to-end tests with the openai npm package (scripts/e2e.sh)
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

# The end-to-end suite on the demo model, and on a fixture with multi-byte vocabulary text.
# (Called in an && list, where set -e does not stop at a failure: each failure returns.)
run_e2e() {
  scripts/e2e.sh || return
  local fixture=../shared/fixtures/fixture-qwen2-q8_0.gguf
  if [ -f "$fixture" ]; then INFERD_E2E_MODEL=$fixture scripts/e2e.sh || return; fi
}

case "${1:-}" in
  "")      run_preset release -LE slow && run_e2e ;;
  --debug) run_preset debug -LE slow ;;
  --all)   run_preset release && run_e2e && run_preset debug -LE slow ;;
  *) echo "usage: scripts/test.sh [--debug|--all]" >&2; exit 2 ;;
esac
