#!/usr/bin/env bash
# Builds the libFuzzer targets (instrumented libarbor + modules, ASan+UBSan)
# and runs one campaign.
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer args]
#   TARGET: memory | qtest | loader
# The working corpus grows in build-fuzz/corpus/TARGET (seeds: fuzz/corpus/TARGET,
# never written to); crashes land in build-fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz/run.sh memory|qtest|loader [seconds] [libFuzzer args]}
seconds=${2:-1800}
shift $(( $# >= 2 ? 2 : 1 ))
dir=${FUZZ_BUILDDIR:-build-fuzz}

ARBOR_WITH_FUZZ=1 ./scripts/deps.sh
if [ ! -f "$dir/build.ninja" ]; then
  CC=clang meson setup "$dir" -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link
fi
ninja -C "$dir" "fuzz/fuzz-$target" accel/accel-qtest.so

mkdir -p "$dir/corpus/$target" "$dir/artifacts/$target"
dict=()
if [ -f "fuzz/$target.dict" ]; then dict=(-dict="fuzz/$target.dict"); fi
exec "$dir/fuzz/fuzz-$target" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 \
  -artifact_prefix="$dir/artifacts/$target/" "${dict[@]}" "$@" "$dir/corpus/$target" "fuzz/corpus/$target"
