/* Memory API: the "info mtree"-like dump. */
#include "memory-test-util.h"

static void
test_dump_format(void)
{
  g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("system", ARBOR_MEMORY_SIZE_4G64);
  g_autoptr(ArborAddressSpace) as = arbor_address_space_new("memory", root, ARBOR_ADDRESS_SPACE_MEMORY);
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("pc.ram", 0x100000, 0);
  g_autoptr(ArborMemoryRegion) low = arbor_memory_region_new_alias("ram-below-4g", ram, 0, 0xa0000);
  g_autoptr(ArborMemoryRegion) pci = arbor_memory_region_new_container("pci", 0x100000);
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborMemoryRegion) bios = arbor_memory_region_new_rom("bios", 0x10000, NULL, NULL, &error);
  TestDevice dev;
  g_autoptr(ArborMemoryRegion) vga = test_io_new("vga", 0x20000, &dev, 0);
  g_autofree char *dump = NULL;

  g_assert_no_error(error);
  arbor_memory_region_add_subregion(root, 0, low);
  arbor_memory_region_add_subregion_overlap(root, 0, pci, -1);
  arbor_memory_region_add_subregion(pci, 0xa0000, vga);
  arbor_memory_region_add_subregion_overlap(pci, 0xf0000, bios, 1);
  dump = arbor_address_space_dump(as);
  g_assert_cmpstr(dump, ==,
                  "address-space: memory\n"
                  "  0000000000000000-ffffffffffffffff (prio 0, container): system\n"
                  "    0000000000000000-000000000009ffff (prio 0, alias): alias ram-below-4g @pc.ram 0000000000000000-000000000009ffff\n"
                  "    0000000000000000-00000000000fffff (prio -1, container): pci\n"
                  "      00000000000a0000-00000000000bffff (prio 0, i/o): vga\n"
                  "      00000000000f0000-00000000000fffff (prio 1, rom): bios\n"
                  "FlatView\n"
                  "  0000000000000000-000000000009ffff (ram): pc.ram @0000000000000000\n"
                  "  00000000000a0000-00000000000bffff (i/o): vga @0000000000000000\n"
                  "  00000000000f0000-00000000000fffff (rom): bios @0000000000000000\n");
  g_clear_pointer(&dump, g_free);

  arbor_memory_region_set_enabled(vga, FALSE);
  dump = arbor_address_space_dump(as);
  g_assert_nonnull(strstr(dump, "(prio 0, i/o): vga [disabled]\n"));
  g_assert_null(strstr(dump, "(i/o): vga @"));
}

static void
test_dump_io_space(void)
{
  g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("io", 0x10000);
  g_autoptr(ArborAddressSpace) as = arbor_address_space_new("I/O", root, ARBOR_ADDRESS_SPACE_IO);
  TestDevice d1, d2;
  g_autoptr(ArborMemoryRegion) a = test_io_new("serial", 8, &d1, 0);
  g_autoptr(ArborMemoryRegion) b = test_io_new("debug-exit", 4, &d2, 0);
  g_autofree char *dump = NULL;

  arbor_memory_region_add_subregion(root, 0x3f8, a);
  arbor_memory_region_add_subregion(root, 0xf4, b);
  dump = arbor_address_space_dump(as);
  /* Subregions listed by address, not by insertion order. */
  g_assert_cmpstr(dump, ==,
                  "address-space: I/O\n"
                  "  0000000000000000-000000000000ffff (prio 0, container): io\n"
                  "    00000000000000f4-00000000000000f7 (prio 0, i/o): debug-exit\n"
                  "    00000000000003f8-00000000000003ff (prio 0, i/o): serial\n"
                  "FlatView\n"
                  "  00000000000000f4-00000000000000f7 (i/o): debug-exit @0000000000000000\n"
                  "  00000000000003f8-00000000000003ff (i/o): serial @0000000000000000\n");
}

static void
test_dump_merged_ranges(void)
{
  g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("root", 0x100000);
  g_autoptr(ArborAddressSpace) as = arbor_address_space_new("memory", root, ARBOR_ADDRESS_SPACE_MEMORY);
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x3000, 0);
  g_autoptr(ArborMemoryRegion) top = test_ram_new("top", 0x1000, 0);
  g_autofree char *dump = NULL;
  const char *flat;

  /* Two adjacent pieces of the same region, contiguous in both spaces,
   * are one range; after the overlay goes they merge again. */
  arbor_memory_region_add_subregion(root, 0, ram);
  arbor_memory_region_add_subregion_overlap(root, 0x1000, top, 1);
  arbor_memory_region_del_subregion(root, top);
  dump = arbor_address_space_dump(as);
  flat = strstr(dump, "FlatView\n");
  g_assert_nonnull(flat);
  g_assert_cmpstr(flat, ==, "FlatView\n  0000000000000000-0000000000002fff (ram): ram @0000000000000000\n");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/memory/dump/format", test_dump_format);
  g_test_add_func("/memory/dump/io-space", test_dump_io_space);
  g_test_add_func("/memory/dump/merged-ranges", test_dump_merged_ranges);
  return g_test_run();
}
