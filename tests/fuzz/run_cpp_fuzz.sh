#!/usr/bin/env bash
# Builds and runs the C++ fuzz target tests/fuzz/fuzz_scalar.cpp (scalar log-Bessel functions,
# logsumexp / softmax rows), bounded, under AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   clang++ on PATH: libFuzzer (-fsanitize=fuzzer), coverage-guided, seed 1;
#   otherwise (g++ only, as in CI): linked with tests/fuzz/fuzz_driver_main.cpp, which runs every
#   two-byte prefix and then pseudo-random inputs from a fixed seed (not coverage-guided).
#
#   bash tests/fuzz/run_cpp_fuzz.sh                 # bounded run (CPP_FUZZ_SECONDS, CPP_FUZZ_RUNS)
#   bash tests/fuzz/run_cpp_fuzz.sh crash-input ... # replay inputs (files or directories)
#
# Environment: CPP_FUZZ_SECONDS (default 25), CPP_FUZZ_RUNS (default 2000000), CXX_FUZZ (compiler;
# default clang++ if found, else g++), WORK_DIR (build directory, kept; default a temporary one).
# A finding prints the violated property and the values, writes the input to
# $WORK_DIR/crash-input (g++ driver) or crash-<sha1> (libFuzzer), and exits non-zero.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SECONDS_MAX=${CPP_FUZZ_SECONDS:-25}
RUNS=${CPP_FUZZ_RUNS:-2000000}

if [ -n "${WORK_DIR:-}" ]; then
  WORK=$WORK_DIR
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/stablemath-cpp-fuzz.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
fi

CXX_FUZZ=${CXX_FUZZ:-$(command -v clang++ || command -v g++ || true)}
if [ -z "$CXX_FUZZ" ]; then
  echo "run_cpp_fuzz.sh: no C++ compiler found (set CXX_FUZZ)" >&2
  exit 1
fi
# The library's kernel flags (CMakeLists.txt) plus the sanitizers; -O1 keeps the run fast and the
# reports readable.
FLAGS=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fno-trapping-math -fno-math-errno -pthread
       -fsanitize=address,undefined -fno-sanitize-recover=all -I "$ROOT/cpp/include")
BIN=$WORK/fuzz_scalar
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}

t0=$(date +%s)
if "$CXX_FUZZ" --version 2>/dev/null | grep -qi clang; then
  echo "building with $CXX_FUZZ: libFuzzer"
  "$CXX_FUZZ" "${FLAGS[@]}" -fsanitize=fuzzer "$HERE/fuzz_scalar.cpp" -o "$BIN"
  t1=$(date +%s)
  if [ $# -gt 0 ]; then
    "$BIN" "$@"
  else
    mkdir -p "$WORK/corpus"
    "$BIN" -seed=1 -runs="$RUNS" -max_total_time="$SECONDS_MAX" -print_final_stats=1 \
      -artifact_prefix="$WORK/" "$WORK/corpus"
  fi
else
  echo "building with $CXX_FUZZ: no libFuzzer, fixed-seed driver (fuzz_driver_main.cpp)"
  "$CXX_FUZZ" "${FLAGS[@]}" "$HERE/fuzz_scalar.cpp" "$HERE/fuzz_driver_main.cpp" -o "$BIN"
  t1=$(date +%s)
  if [ $# -gt 0 ]; then
    "$BIN" -artifact_prefix="$WORK/" "$@"
  else
    "$BIN" -seed=1 -runs="$RUNS" -max_total_time="$SECONDS_MAX" -artifact_prefix="$WORK/"
  fi
fi
echo "C++ fuzzing: build $((t1 - t0)) s, run $(($(date +%s) - t1)) s"
