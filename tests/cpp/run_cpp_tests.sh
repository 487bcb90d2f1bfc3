#!/usr/bin/env bash
# Builds and runs the stablemath C++ tests from a clean checkout; needs only cmake (>= 3.18),
# a C++17 compiler and ninja or make.
#
#   (a) configure + build the top-level project with the tests (Release, -O2), run ctest
#   (b) cmake --install into a temporary prefix
#   (c) build tests/cpp/consumer against that prefix (find_package(stablemath 0.1 CONFIG)), run it;
#       also check that a request for an incompatible version (0.2) is refused
#   (d) SANITIZE=1: rebuild the unit tests with -fsanitize=address,undefined and run them
#
# Environment:
#   SANITIZE=1        also run step (d)
#   ONLY_SANITIZE=1   run step (d) alone (CI: steps (a)-(c) already ran inside pytest)
#   JOBS=N            build parallelism (default: number of CPUs); ctest always runs -j2
#   CMAKE, CTEST      tools to use (default: cmake on PATH, and the ctest beside it)
#   CMAKE_GENERATOR   generator (default: Ninja if ninja is on PATH, else Unix Makefiles)
#   CXX               compiler, as usual for CMake
#   WORK_DIR=dir      build in dir (kept) instead of a temporary directory (removed on exit)
#   KEEP_BUILD=1      keep the temporary directory
# Exit status: 0 when every step passed, 1 otherwise.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

CMAKE=${CMAKE:-cmake}
if ! command -v "$CMAKE" >/dev/null 2>&1; then
  echo "run_cpp_tests.sh: cmake not found (set CMAKE=...)" >&2
  exit 1
fi
if [ -z "${CTEST:-}" ]; then
  CTEST=ctest
  cmake_dir=$(dirname "$(command -v "$CMAKE")")
  [ -x "$cmake_dir/ctest" ] && CTEST="$cmake_dir/ctest"
fi
JOBS=${JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}

GEN_ARGS=()
if [ -z "${CMAKE_GENERATOR:-}" ]; then
  if command -v ninja >/dev/null 2>&1; then
    GEN_ARGS=(-G Ninja)
  elif command -v make >/dev/null 2>&1; then
    GEN_ARGS=(-G "Unix Makefiles")
  fi
fi

if [ -n "${WORK_DIR:-}" ]; then
  WORK=$WORK_DIR
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/stablemath-cpp-tests.XXXXXX")
  if [ "${KEEP_BUILD:-0}" != 1 ]; then
    trap 'rm -rf "$WORK"' EXIT
  fi
fi
BUILD=$WORK/build
PREFIX=$WORK/prefix
CONSUMER=$WORK/consumer
ASAN_BUILD=$WORK/build-sanitize

COMMON_ARGS=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG")
LIB_ARGS=(-DSTABLEMATH_BUILD_TESTS=ON -DSTABLEMATH_BUILD_PYTHON=OFF -DSTABLEMATH_ENABLE_CUDA=OFF)

RESULTS=()
FAILED=0
T_START=$(date +%s)

# step NAME COMMAND...: runs a step, records its time and status.
step() {
  local name=$1
  shift
  local t0 t1 rc
  t0=$(date +%s)
  echo
  echo "==== $name"
  "$@"
  rc=$?
  t1=$(date +%s)
  if [ $rc -eq 0 ]; then
    RESULTS+=("PASS  $name ($((t1 - t0)) s)")
  else
    RESULTS+=("FAIL  $name ($((t1 - t0)) s, exit $rc)")
    FAILED=1
  fi
  return $rc
}

build_and_test() {
  "$CMAKE" -S "$ROOT" -B "$BUILD" "${GEN_ARGS[@]}" "${COMMON_ARGS[@]}" "${LIB_ARGS[@]}" &&
    "$CMAKE" --build "$BUILD" --config Release --parallel "$JOBS" &&
    (cd "$BUILD" && "$CTEST" -C Release -j2 --output-on-failure)
}

install_package() {
  rm -rf "$PREFIX"
  "$CMAKE" --install "$BUILD" --config Release --prefix "$PREFIX" || return 1
  if [ ! -f "$PREFIX/include/stablemath/stablemath.hpp" ]; then
    echo "install: headers missing under $PREFIX/include"
    return 1
  fi
  # The package files, wherever GNUInstallDirs put the libdir (lib, lib64, ...).
  local cfg
  cfg=$(find "$PREFIX" -name stablemathConfig.cmake | head -1)
  if [ -z "$cfg" ] || [ ! -f "$(dirname "$cfg")/stablemathConfigVersion.cmake" ] ||
     [ ! -f "$(dirname "$cfg")/stablemathTargets.cmake" ]; then
    echo "install: stablemathConfig.cmake / ConfigVersion / Targets missing under $PREFIX"
    return 1
  fi
  echo "installed: $(dirname "$cfg")"
}

consumer() {
  rm -rf "$CONSUMER"
  "$CMAKE" -S "$HERE/consumer" -B "$CONSUMER" "${GEN_ARGS[@]}" "${COMMON_ARGS[@]}" \
      "-DCMAKE_PREFIX_PATH=$PREFIX" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON || return 1
  # The package must come from the install prefix, not from the source or build tree.
  local found
  found=$(sed -n 's/^stablemath_DIR:[A-Z]*=//p' "$CONSUMER/CMakeCache.txt")
  case "$found" in
    "$PREFIX"/*) echo "consumer uses $found" ;;
    *) echo "consumer found stablemath in '$found', not under $PREFIX"; return 1 ;;
  esac
  "$CMAKE" --build "$CONSUMER" --config Release --parallel "$JOBS" &&
    (cd "$CONSUMER" && "$CTEST" -C Release --output-on-failure)
}

# find_package(stablemath 0.2) must not accept the installed 0.1.x (SameMinorVersion).
version_refused() {
  local dir=$WORK/version-check
  rm -rf "$dir"
  mkdir -p "$dir"
  cat >"$dir/CMakeLists.txt" <<'CMAKE_EOF'
cmake_minimum_required(VERSION 3.18)
project(version_check LANGUAGES CXX)  # stablemath needs Threads, which needs a language
find_package(stablemath 0.2 CONFIG QUIET)
if(stablemath_FOUND)
  message(FATAL_ERROR "find_package(stablemath 0.2) accepted version ${stablemath_VERSION}")
endif()
find_package(stablemath 0.1.0 EXACT CONFIG QUIET)
if(NOT stablemath_FOUND)
  message(FATAL_ERROR "find_package(stablemath 0.1.0 EXACT) failed")
endif()
message(STATUS "version check: 0.2 refused, 0.1.0 found")
CMAKE_EOF
  "$CMAKE" -S "$dir" -B "$dir/build" "${GEN_ARGS[@]}" "-DCMAKE_PREFIX_PATH=$PREFIX" \
      -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
}

sanitize() {
  local flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
  "$CMAKE" -S "$ROOT" -B "$ASAN_BUILD" "${GEN_ARGS[@]}" "${COMMON_ARGS[@]}" "${LIB_ARGS[@]}" \
      "-DCMAKE_CXX_FLAGS=$flags" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" &&
    "$CMAKE" --build "$ASAN_BUILD" --config Release --parallel "$JOBS" \
      --target test_exp test_lse_state test_rows test_strided test_two_tus test_bessel test_bessel_batch \
               test_sparsemax test_stablemax test_kde &&
    (cd "$ASAN_BUILD" &&
      ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$CTEST" -C Release -j2 --output-on-failure -E '^include_alone')
}


echo "stablemath C++ tests: source $ROOT, work dir $WORK"
echo "cmake: $(command -v "$CMAKE") ($("$CMAKE" --version | head -1)), ctest: $CTEST, generator: ${GEN_ARGS[*]:-${CMAKE_GENERATOR:-default}}"

if [ "${ONLY_SANITIZE:-0}" = 1 ]; then
  SANITIZE=1
elif step "(a) build + unit tests" build_and_test; then
  step "(b) install" install_package &&
    { step "(c) consumer of the installed package" consumer; step "(c) version 0.2 refused" version_refused; }
else
  RESULTS+=("SKIP  (b) install, (c) consumer: the build failed")
fi
if [ "${SANITIZE:-0}" = 1 ]; then
  step "(d) unit tests under ASan + UBSan" sanitize
fi

echo
echo "==== summary ($(($(date +%s) - T_START)) s)"
for r in "${RESULTS[@]}"; do echo "  $r"; done
[ "${KEEP_BUILD:-0}" = 1 ] || [ -n "${WORK_DIR:-}" ] && echo "  build tree kept in $WORK"
exit $FAILED
