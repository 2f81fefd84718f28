#!/usr/bin/env bash
# Installs what arbor needs to build and test, on Debian 12, when missing.
set -euo pipefail

# qemu-system-x86: qtest/test-qtest-vs-qemu compares arbor's qtest replies
# with QEMU's, byte for byte.
need=(meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev gcc-multilib binutils qemu-system-x86)
if [ "${ARBOR_WITH_FUZZ:-0}" = 1 ]; then need+=(clang libclang-rt-14-dev); fi
if [ "${ARBOR_WITH_VALGRIND:-0}" = 1 ]; then need+=(valgrind); fi

missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
