#!/usr/bin/env bash
# Installs what is missing, builds arbor and runs its whole test suite twice:
#   1. the plain build (build/): `meson test`, every suite;
#   2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#      with leak detection on (build-asan/, -Db_sanitize=address,undefined).
# Extra arguments go to both `meson test` runs (e.g. --suite unit).
#
# Environment:
#   ARBOR_TEST_PASSES  which passes to run, in order (default "plain asan";
#                      also "tsan": the threaded tests under ThreadSanitizer,
#                      clang, build-tsan/)
#   BUILDDIR           the plain build dir (default build)
#   ASAN_BUILDDIR      the sanitizer build dir (default build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

passes=${ARBOR_TEST_PASSES:-plain asan}
case " $passes " in
  *" tsan "*) export ARBOR_WITH_FUZZ=1 ;; # clang + its runtimes
esac
./scripts/deps.sh

# Configures $1 with the remaining arguments unless it is configured already.
setup() {
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  fi
}

run_pass() {
  local pass=$1
  shift
  echo "=== test pass: $pass ==="
  case $pass in
    plain)
      local dir=${BUILDDIR:-build}
      setup "$dir"
      ninja -C "$dir"
      meson test -C "$dir" --print-errorlogs --num-processes 2 "$@"
      ;;
    asan)
      local dir=${ASAN_BUILDDIR:-build-asan}
      setup "$dir" -Db_sanitize=address,undefined
      ninja -C "$dir"
      # Leak detection on; GLib's slice allocator off so every block is a
      # malloc LeakSanitizer can see; GLib's one-time allocations suppressed
      # (.ci/lsan.supp: GLib/GObject only, never arbor). UBSan findings fail.
      # A small quarantine keeps the stress tests' RSS bounds meaningful.
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0:quarantine_size_mb=32 \
      LSAN_OPTIONS=suppressions=$root/.ci/lsan.supp:print_suppressions=0 \
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      G_SLICE=always-malloc G_DEBUG=gc-friendly \
        meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier 3 "$@"
      ;;
    tsan)
      # The threaded tests (vCPU lifecycle, concurrent topology change, the
      # stress tests) under ThreadSanitizer. clang: gcc 12's TSan does not
      # know GLib's futex-based GMutex any better, and clang's is faster.
      local dir=${TSAN_BUILDDIR:-build-tsan}
      if [ ! -f "$dir/build.ninja" ]; then
        CC=clang meson setup "$dir" -Db_sanitize=thread -Db_lundef=false
      fi
      ninja -C "$dir"
      # GLib's GMutex/GCond are futexes TSan cannot see: the preloaded shim
      # (tests/stress/tsan-glib-shim.c) annotates them.
      # (Only the tests get it, through --wrap: meson itself must not.)
      TSAN_OPTIONS="suppressions=$root/.ci/tsan.supp halt_on_error=1 second_deadlock_stack=1" \
      G_SLICE=always-malloc \
        meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier 5 \
          --wrap="env LD_PRELOAD=$root/$dir/tests/stress/libtsan-glib-shim.so" \
          test-vcpu-lifecycle test-memory-threads test-stress-vcpu "$@"
      ;;
    *)
      echo "unknown test pass '$pass' (plain, asan, tsan)" >&2
      exit 2
      ;;
  esac
}

for pass in $passes; do
  run_pass "$pass" "$@"
done
