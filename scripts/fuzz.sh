#!/usr/bin/env bash
# Fuzzes the GGUF reader (or, with FUZZ_TARGET=safetensors, the safetensors reader) with libFuzzer
# (clang, ASan + UBSan).
# Usage: scripts/fuzz.sh [seconds]        (default 60)
#   1. configures and builds the `fuzz` preset (build/fuzz);
#   2. writes the seed corpus to build/fuzz/corpus/gguf_seed: synthetic files made with GgufWriter
#      plus, when ../shared/fixtures exists, truncated and shrunk copies of the small real models;
#   3. runs build/fuzz/fuzz/gguf_file_fuzz for the given time with one job, keeping what it learns
#      in build/fuzz/corpus/gguf (reused by the next run) and crash reproducers in
#      build/fuzz/crashes. Exits non-zero when the fuzzer finds a crash, leak, timeout or OOM.
# Reproduce a finding: build/fuzz/fuzz/gguf_file_fuzz build/fuzz/crashes/<file>
# Environment: FUZZ_JOBS (default 1), FUZZ_MAX_LEN (default 65536), FUZZ_ARGS (extra flags),
# FUZZ_TARGET (gguf, the default, or safetensors: fuzzes build/fuzz/fuzz/safetensors_file_fuzz
# the same way, with corpora build/fuzz/corpus/safetensors{,_seed} and fuzz/safetensors.dict).
#
# Usage: scripts/fuzz.sh coverage
#   replays the corpus kept so far through a build with clang source coverage
#   (build/fuzz-coverage) and prints the line and branch coverage of src/format.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [ "${1:-}" = "coverage" ]; then
  cov="$root/build/fuzz-coverage"
  cmake -S "$root" -B "$cov" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DINFERD_FUZZ=ON -DINFERD_BUILD_TESTS=OFF -DINFERD_BUILD_BENCH=OFF \
    -DCMAKE_CXX_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
    -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" >/dev/null
  cmake --build "$cov" -j2 --target gguf_file_fuzz
  rm -f "$cov"/*.profraw
  LLVM_PROFILE_FILE="$cov/replay.profraw" "$cov/fuzz/gguf_file_fuzz" -runs=0 \
    "$root/build/fuzz/corpus/gguf" "$root/build/fuzz/corpus/gguf_seed" 2>&1 | grep -E "INITED|DONE" || true
  llvm-profdata merge -sparse "$cov/replay.profraw" -o "$cov/replay.profdata"
  llvm-cov report "$cov/fuzz/gguf_file_fuzz" -instr-profile="$cov/replay.profdata" \
    "$root/src/format/gguf_file.cpp" "$root/src/format/gguf_value.cpp"
  echo "uncovered lines: llvm-cov show $cov/fuzz/gguf_file_fuzz -instr-profile=$cov/replay.profdata" \
       "$root/src/format/gguf_file.cpp"
  exit 0
fi

seconds="${1:-60}"
target="${FUZZ_TARGET:-gguf}"
case "$target" in
  gguf | safetensors) ;;
  *) echo "fuzz: FUZZ_TARGET must be gguf or safetensors" >&2; exit 2 ;;
esac

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j2 --target "${target}_file_fuzz" "${target}_seed_corpus"

build="$root/build/fuzz"
seeds="$build/corpus/${target}_seed"
corpus="$build/corpus/$target"
crashes="$build/crashes"
mkdir -p "$seeds" "$corpus" "$crashes"

real=()
if [ "$target" = gguf ]; then
  for f in llama-2-tiny-random.gguf fixture-llama-q4_k_m.gguf fixture-qwen2-q8_0.gguf \
           fixture-gemma2-q8_0.gguf; do
    [ -f "$root/../shared/fixtures/$f" ] && real+=("$root/../shared/fixtures/$f")
  done
fi
ASAN_OPTIONS=detect_leaks=0 "$build/fuzz/${target}_seed_corpus" "$seeds" "${real[@]}"
echo "fuzz: $(ls "$seeds" | wc -l) seeds in $seeds; corpus $corpus"

jobs="${FUZZ_JOBS:-1}"
parallel=()
# Several jobs run as forked workers writing build/fuzz/fuzz-<n>.log; one job runs in-process.
[ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
cd "$build"
# shellcheck disable=SC2086
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
"$build/fuzz/${target}_file_fuzz" \
  -max_total_time="$seconds" -max_len="${FUZZ_MAX_LEN:-65536}" -timeout=10 -rss_limit_mb=2048 \
  "${parallel[@]}" \
  -dict="$root/fuzz/$target.dict" -artifact_prefix="$crashes/" -print_final_stats=1 \
  ${FUZZ_ARGS:-} "$corpus" "$seeds"
