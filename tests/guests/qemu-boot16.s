# A 64 KiB BIOS for QEMU (check-with-qemu.sh): real mode, SS:SP = 0:8000, jump to 0:1000.
.code16
.org 0xfff0
	cli
	xor %ax, %ax
	mov %ax, %ss
	mov $0x8000, %sp
	ljmp $0, $0x1000
.org 0x10000
