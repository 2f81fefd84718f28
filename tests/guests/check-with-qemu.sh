#!/bin/sh
# Runs one of the flat guests under QEMU's TCG (no KVM needed) and prints
# the port accesses it makes, to check a guest program by hand where
# /dev/kvm is missing. QEMU's PC has the PIC at 0x20 (our report port), so
# reports show up as byte writes to 'pic'; values read come from QEMU's
# devices, not from the tests' log device; MMIO at 0xa0000 is not traced.
#   tests/guests/check-with-qemu.sh BUILD/tests/guests/pm32-io.bin [16|32|64]
set -eu
bin=$1
mode=${2:-}
src=$(dirname "$0")
if [ -z "$mode" ]; then
  case $(basename "$bin") in
    rm-*) mode=16 ;;
    lm64-*) mode=64 ;;
    *) mode=32 ;;
  esac
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
as --32 -o "$tmp/boot.o" "$src/qemu-boot$mode.s"
ld -m elf_i386 -Ttext=0 -e 0 --oformat binary -o "$tmp/boot.bin" "$tmp/boot.o"
timeout 3 qemu-system-x86_64 -accel tcg -M pc -nodefaults -display none -monitor none -serial none \
  -bios "$tmp/boot.bin" -device loader,file="$bin",addr=0x1000,force-raw=on \
  -trace 'memory_region_ops_*' -d int,cpu_reset -D "$tmp/log" >/dev/null 2>&1 || true
grep memory_region_ops "$tmp/log" | grep -v apic-msi |
  sed 's/memory_region_ops_//; s/cpu [-0-9]* mr 0x[0-9a-f]* //'
grep -q 'Triple fault' "$tmp/log" && echo "triple fault"
exit 0
