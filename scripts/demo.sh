#!/usr/bin/env bash
# Installs what is missing, builds arbor and runs its main job.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh

builddir=${BUILDDIR:-build}
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir"
fi
ninja -C "$builddir"
exec "$builddir/examples/arbor-memory-demo"
