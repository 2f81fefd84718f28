/* Minimal freestanding helpers for the e2e guests (32- and 64-bit). */
#pragma once

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

void serial_init(u16 base);
void putc_serial(char c);
void puts_serial(const char *s);
void put_hex(u64 v, int digits);
void put_dec(u32 v);
int getc_serial(void); /* polls LSR.DR */
void debug_exit(u32 value) __attribute__((noreturn));
int str_eq(const char *a, const char *b);
