/* arbor-memory-demo: a short tour of the memory API.
 *
 * Builds a small machine-like memory map (RAM, a ROM, an MMIO device, an
 * alias, an overlapping region with a higher priority), dispatches a few
 * accesses, prints the "info mtree"-like dump, then changes the topology
 * at run time and shows the effect. */
#include <arbor/arbor.h>

#include <stdio.h>
#include <string.h>

/* A toy MMIO device: a counter register at 0 and a scratch register at 4. */
typedef struct {
  guint32 counter;
  guint32 scratch;
} ToyDevice;

static guint64
toy_read(gpointer opaque, guint64 addr, guint size)
{
  ToyDevice *dev = opaque;

  printf("    toy device: read  size %u at offset 0x%" G_GINT64_MODIFIER "x\n", size, addr);
  return addr == 0 ? dev->counter++ : dev->scratch;
}

static void
toy_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  ToyDevice *dev = opaque;

  printf("    toy device: write size %u at offset 0x%" G_GINT64_MODIFIER "x value 0x%" G_GINT64_MODIFIER "x\n",
         size, addr, value);
  if (addr == 4)
    dev->scratch = (guint32)value;
}

static const ArborMemoryRegionOps toy_ops = {
  .read = toy_read,
  .write = toy_write,
  .valid = { .min_access_size = 1, .max_access_size = 8 },
  .impl = { .min_access_size = 4, .max_access_size = 4 }, /* 8-byte accesses split, 1-byte widened */
};

static const char *
result_name(ArborMemTxResult r)
{
  switch (r) {
  case ARBOR_MEMTX_OK:
    return "ok";
  case ARBOR_MEMTX_DECODE_ERROR:
    return "decode error";
  default:
    return "access error";
  }
}

static void
show_read(ArborAddressSpace *as, guint64 addr, guint size, const char *what)
{
  guint64 v = 0;
  ArborMemTxResult r = arbor_address_space_dispatch_read(as, addr, size, &v);

  printf("  read  %u bytes at 0x%06" G_GINT64_MODIFIER "x (%s): 0x%" G_GINT64_MODIFIER "x [%s]\n", size, addr, what, v,
         result_name(r));
}

static void
show_write(ArborAddressSpace *as, guint64 addr, guint size, guint64 value, const char *what)
{
  ArborMemTxResult r = arbor_address_space_dispatch_write(as, addr, size, value);

  printf("  write %u bytes at 0x%06" G_GINT64_MODIFIER "x (%s): 0x%" G_GINT64_MODIFIER "x [%s]\n", size, addr, what,
         value, result_name(r));
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborMemoryRegion) system = arbor_memory_region_new_container("system", ARBOR_MEMORY_SIZE_4G64);
  g_autoptr(ArborAddressSpace) memory = arbor_address_space_new("memory", system, ARBOR_ADDRESS_SPACE_MEMORY);
  g_autoptr(ArborMemoryRegion) ram = NULL;
  g_autoptr(ArborMemoryRegion) rom = NULL;
  g_autoptr(ArborMemoryRegion) low = NULL;
  g_autoptr(ArborMemoryRegion) mmio = NULL;
  g_autoptr(ArborMemoryRegion) smram = NULL;
  ToyDevice toy = { .counter = 100 };
  g_autofree char *dump = NULL;
  const char hello[] = "hello from RAM";
  char buf[sizeof(hello)];

  printf("== Build the memory map (one transaction, rendered once at commit)\n");
  ram = arbor_memory_region_new_ram("pc.ram", 0x100000, &error);
  rom = arbor_memory_region_new_rom("bios", 0x10000, NULL, NULL, &error);
  if (ram == NULL || rom == NULL) {
    g_printerr("cannot allocate memory: %s\n", error->message);
    return 1;
  }
  /* The reset vector: a real-mode far jump at 0xffff0. */
  memcpy((guint8 *)arbor_memory_region_get_ram_ptr(rom) + 0xfff0, "\xea\x5b\xe0\x00\xf0", 5);
  low = arbor_memory_region_new_alias("ram-below-1m", ram, 0, 0xa0000);
  mmio = arbor_memory_region_new_io("toy-device", 0x1000, &toy_ops, &toy);
  smram = arbor_memory_region_new_ram("smram", 0x10000, &error);

  arbor_address_space_begin(memory);
  arbor_memory_region_add_subregion(system, 0x000000, low);         /* RAM below 640 KiB, via an alias */
  arbor_memory_region_add_subregion(system, 0x0f0000, rom);         /* BIOS ROM at the top of the first MiB */
  arbor_memory_region_add_subregion(system, 0xfe0000, mmio);        /* a device */
  arbor_memory_region_add_subregion_overlap(system, 0x90000, smram, 1); /* overlaps RAM, higher priority */
  arbor_address_space_commit(memory);
  printf("  generation %" G_GUINT64_FORMAT ", dump:\n\n", arbor_address_space_get_generation(memory));
  dump = arbor_address_space_dump(memory);
  printf("%s\n", dump);
  g_clear_pointer(&dump, g_free);

  printf("== Dispatch\n");
  arbor_address_space_write(memory, 0x1000, hello, sizeof(hello));
  arbor_address_space_read(memory, 0x1000, buf, sizeof(buf));
  printf("  any-length write+read at 0x1000 (RAM through the alias): \"%s\"\n", buf);
  show_read(memory, 0xffff0, 1, "BIOS ROM: the reset vector's opcode");
  show_write(memory, 0xffff0, 1, 0x90, "ROM: the write is dropped");
  show_read(memory, 0xffff0, 1, "ROM unchanged");
  show_read(memory, 0xfe0000, 4, "device counter register");
  show_read(memory, 0xfe0000, 8, "8 bytes: split into two 4-byte calls");
  show_write(memory, 0xfe0005, 1, 0xab, "1 byte: widened to a 4-byte write");
  show_read(memory, 0x2000000, 4, "nothing mapped: reads 0");
  show_write(memory, 0x9fffe, 2, 0xbeef, "last bytes of smram");
  show_read(memory, 0x9fffe, 4, "straddles smram and the hole above 640 KiB");

  printf("\n== Change the topology at run time\n");
  printf("  disable smram: RAM under it shows through\n");
  arbor_memory_region_set_enabled(smram, FALSE);
  printf("  move the device to 0xfd0000\n");
  arbor_memory_region_set_address(mmio, 0xfd0000);
  show_read(memory, 0xfd0004, 4, "device scratch register, new place");
  show_read(memory, 0xfe0004, 4, "old place: unassigned");
  printf("  remove the BIOS\n");
  arbor_memory_region_del_subregion(system, rom);
  show_read(memory, 0xffff0, 1, "no BIOS: unassigned");
  printf("  device served %" G_GUINT64_FORMAT " dispatches; generation now %" G_GUINT64_FORMAT "\n\n",
         arbor_memory_region_get_access_count(mmio), arbor_address_space_get_generation(memory));
  dump = arbor_address_space_dump(memory);
  printf("%s", dump);
  return 0;
}
