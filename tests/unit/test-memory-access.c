/* Memory API: access sizes, splitting, widening, endianness, unassigned, any-length access. */
#include "memory-test-util.h"

typedef struct {
  ArborMemoryRegion *root;
  ArborAddressSpace *as;
  TestDevice dev;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  ArborAddressSpaceKind kind = GPOINTER_TO_INT(data);

  f->root = arbor_memory_region_new_container("root", kind == ARBOR_ADDRESS_SPACE_IO ? 0x10000 : ARBOR_MEMORY_SIZE_4G64);
  f->as = arbor_address_space_new(kind == ARBOR_ADDRESS_SPACE_IO ? "io" : "memory", f->root, kind);
  memset(&f->dev, 0, sizeof(f->dev));
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_clear_object(&f->as);
  g_clear_object(&f->root);
}

/* Adds an I/O region at @addr with the given ops sizes. */
static ArborMemoryRegion *
add_io(Fixture *f, guint64 addr, guint64 size, ArborMemoryRegionOps ops)
{
  ArborMemoryRegion *mr = arbor_memory_region_new_io("dev", size, &ops, &f->dev);

  arbor_memory_region_add_subregion(f->root, addr, mr);
  g_object_unref(mr); /* the container keeps it */
  return mr;
}

static void
test_split_impl_max(Fixture *f, gconstpointer data)
{
  guint64 v;

  f->dev.tag = 0x10;
  add_io(f, 0x1000, 0x100, test_ops(1, 4, FALSE, 1, 1));
  v = test_read(f->as, 0x1004, 4, ARBOR_MEMTX_OK);
  /* Four one-byte calls at 4, 5, 6, 7 recombined little-endian. */
  g_assert_cmpuint(f->dev.n, ==, 4);
  for (guint i = 0; i < 4; i++) {
    g_assert_cmpuint(f->dev.log[i].addr, ==, 4 + i);
    g_assert_cmpuint(f->dev.log[i].size, ==, 1);
  }
  g_assert_cmpuint(v, ==, 0x17161514);

  f->dev.n = 0;
  g_assert_cmpint(arbor_address_space_dispatch_write(f->as, 0x1008, 4, 0xa1b2c3d4), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(f->dev.n, ==, 4);
  g_assert_cmpuint(f->dev.log[0].value, ==, 0xd4);
  g_assert_cmpuint(f->dev.log[0].addr, ==, 8);
  g_assert_cmpuint(f->dev.log[3].value, ==, 0xa1);
  g_assert_cmpuint(f->dev.log[3].addr, ==, 11);
}

static void
test_split_straddle_unassigned(Fixture *f, gconstpointer data)
{
  guint64 v;

  f->dev.tag = 0x40;
  add_io(f, 0x1000, 0x10, test_ops(1, 8, TRUE, 1, 8));
  /* Bytes 0x100e, 0x100f in the device, 0x1010, 0x1011 unassigned. */
  v = test_read(f->as, 0x100e, 4, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(v, ==, 0x00004f4e);
  g_assert_cmpuint(f->dev.n, ==, 1);
  g_assert_cmpuint(f->dev.log[0].addr, ==, 0xe);
  g_assert_cmpuint(f->dev.log[0].size, ==, 2);

  /* The other way round: unassigned first. */
  f->dev.n = 0;
  v = test_read(f->as, 0x0ffe, 4, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(v, ==, 0x41400000);

  f->dev.n = 0;
  g_assert_cmpint(arbor_address_space_dispatch_write(f->as, 0x100f, 2, 0x1234), ==, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(f->dev.n, ==, 1);
  g_assert_cmpuint(f->dev.log[0].addr, ==, 0xf);
  g_assert_cmpuint(f->dev.log[0].value, ==, 0x34);
}

static void
test_split_straddle_io_space(Fixture *f, gconstpointer data)
{
  guint64 v;

  f->dev.tag = 0x40;
  add_io(f, 0x60, 0x2, test_ops(1, 8, TRUE, 1, 8));
  v = test_read(f->as, 0x60, 4, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(v, ==, 0xffff4140);
}

static void
test_split_two_regions(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x1000, 0xcc);
  guint64 v;

  f->dev.tag = 0x20;
  add_io(f, 0x1000, 0x1000, test_ops(1, 8, TRUE, 1, 8));
  arbor_memory_region_add_subregion(f->root, 0x0, ram);
  v = test_read(f->as, 0x0ffd, 8, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0x2423222120ccccccull);
}

static void
test_widen(Fixture *f, gconstpointer data)
{
  guint64 v;

  f->dev.tag = 0x30;
  add_io(f, 0x2000, 0x100, test_ops(1, 4, TRUE, 4, 4));
  v = test_read(f->as, 0x2005, 1, ARBOR_MEMTX_OK);
  /* One aligned 4-byte read at 4, byte 1 of it extracted. */
  g_assert_cmpuint(f->dev.n, ==, 1);
  g_assert_cmpuint(f->dev.log[0].addr, ==, 4);
  g_assert_cmpuint(f->dev.log[0].size, ==, 4);
  g_assert_cmpuint(v, ==, 0x35);

  v = test_read(f->as, 0x2006, 2, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0x3736);

  /* Widened write: value shifted into position, no read-modify-write. */
  f->dev.n = 0;
  g_assert_cmpint(arbor_address_space_dispatch_write(f->as, 0x2006, 1, 0xab), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(f->dev.n, ==, 1);
  g_assert_true(f->dev.log[0].is_write);
  g_assert_cmpuint(f->dev.log[0].addr, ==, 4);
  g_assert_cmpuint(f->dev.log[0].size, ==, 4);
  g_assert_cmpuint(f->dev.log[0].value, ==, 0x00ab0000);
}

static void
test_widen_unaligned_straddle(Fixture *f, gconstpointer data)
{
  guint64 v;

  f->dev.tag = 0x30;
  add_io(f, 0x2000, 0x100, test_ops(1, 4, TRUE, 4, 4));
  /* 2 bytes at 3: crosses two impl words, widened byte by byte. */
  v = test_read(f->as, 0x2003, 2, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0x3433);
  g_assert_cmpuint(f->dev.n, ==, 2);
  g_assert_cmpuint(f->dev.log[0].addr, ==, 0);
  g_assert_cmpuint(f->dev.log[1].addr, ==, 4);
}

static void
test_valid_size(Fixture *f, gconstpointer data)
{
  guint64 v;

  add_io(f, 0x3000, 0x100, test_ops(2, 4, TRUE, 0, 0));
  v = test_read(f->as, 0x3000, 1, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(v, ==, 0);
  test_read(f->as, 0x3000, 8, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(f->dev.n, ==, 0);
  test_read(f->as, 0x3000, 2, ARBOR_MEMTX_OK);
  test_read(f->as, 0x3000, 4, ARBOR_MEMTX_OK);
  g_assert_cmpuint(f->dev.n, ==, 2);
  g_assert_cmpint(arbor_address_space_dispatch_write(f->as, 0x3000, 1, 1), ==, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(f->dev.n, ==, 2);
  /* Sizes other than 1, 2, 4, 8 are refused without calling anything. */
  test_read(f->as, 0x3000, 3, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(f->dev.n, ==, 2);
}

static void
test_valid_defaults(Fixture *f, gconstpointer data)
{
  /* 0 in min/max means 1 and 4. */
  add_io(f, 0x3000, 0x100, test_ops(0, 0, FALSE, 0, 0));
  test_read(f->as, 0x3000, 1, ARBOR_MEMTX_OK);
  test_read(f->as, 0x3000, 4, ARBOR_MEMTX_OK);
  test_read(f->as, 0x3000, 8, ARBOR_MEMTX_DECODE_ERROR);
}

static void
test_valid_unaligned(Fixture *f, gconstpointer data)
{
  add_io(f, 0x3000, 0x100, test_ops(1, 4, FALSE, 1, 4));
  test_read(f->as, 0x3002, 2, ARBOR_MEMTX_OK);
  test_read(f->as, 0x3001, 2, ARBOR_MEMTX_DECODE_ERROR);
  test_read(f->as, 0x3002, 4, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(f->dev.n, ==, 1);
}

static void
test_unassigned_memory(Fixture *f, gconstpointer data)
{
  guint64 v;

  v = test_read(f->as, 0x123456, 4, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(v, ==, 0);
  g_assert_cmpint(arbor_address_space_dispatch_write(f->as, 0x123456, 4, 5), ==, ARBOR_MEMTX_DECODE_ERROR);
}

static void
test_unassigned_io(Fixture *f, gconstpointer data)
{
  guint64 v;

  v = test_read(f->as, 0x80, 1, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(v, ==, 0xff);
  v = test_read(f->as, 0x80, 2, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(v, ==, 0xffff);
  v = test_read(f->as, 0x80, 4, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(v, ==, 0xffffffff);
  /* Beyond the 64 KiB root. */
  v = test_read(f->as, 0x10000, 1, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(v, ==, 0xff);
}

static GLogWriterOutput
count_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  guint *count = user_data;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0(fields[i].key, "MESSAGE") == 0 && strstr(fields[i].value, "unassigned") != NULL)
      (*count)++;
  return g_log_writer_default(level, fields, n_fields, user_data);
}

static void
test_unassigned_log_rate_limited(void)
{
  if (g_test_subprocess()) {
    g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("root", 0x10000);
    g_autoptr(ArborAddressSpace) as = NULL;
    guint count = 0;
    guint64 v;

    g_log_set_writer_func(count_writer, &count, NULL);
    as = arbor_address_space_new("io", root, ARBOR_ADDRESS_SPACE_IO);
    for (int i = 0; i < 100000; i++)
      arbor_address_space_dispatch_read(as, 0x80, 1, &v);
    /* 10 lines a second: 100000 lines would take hours to allow. */
    g_assert_cmpuint(count, >=, 1);
    g_assert_cmpuint(count, <, 5000);
    return;
  }
  /* The child inherits the environment: turn our debug log on there. */
  g_setenv("G_MESSAGES_DEBUG", "arbor-memory", TRUE);
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv("G_MESSAGES_DEBUG");
  g_test_trap_assert_passed();
  g_test_trap_assert_stdout("*unassigned read of size 1 at 0x80*");
}

static guint64
be_read(gpointer opaque, guint64 addr, guint size)
{
  TestDevice *dev = opaque;

  test_device_record(dev, FALSE, addr, size, 0);
  /* A big-endian 32-bit register 0x11223344 at offset 0. */
  if (addr == 0 && size == 4)
    return 0x11223344;
  if (addr == 0 && size == 2)
    return 0x1122;
  if (addr == 2 && size == 2)
    return 0x3344;
  return 0;
}

static void
test_big_endian(Fixture *f, gconstpointer data)
{
  ArborMemoryRegionOps ops = test_ops(1, 4, FALSE, 2, 4);
  guint64 v;
  guint8 bytes[4];

  ops.read = be_read;
  ops.endianness = ARBOR_ENDIAN_BIG;
  add_io(f, 0x4000, 0x10, ops);

  v = test_read(f->as, 0x4000, 4, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0x44332211);
  /* The byte at the lowest address is the most significant one. */
  v = test_read(f->as, 0x4000, 1, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0x11);
  v = test_read(f->as, 0x4001, 1, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0x22);
  v = test_read(f->as, 0x4002, 2, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0x4433);
  g_assert_cmpint(arbor_address_space_read(f->as, 0x4000, bytes, 4), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(bytes[0], ==, 0x11);
  g_assert_cmpuint(bytes[3], ==, 0x44);

  /* Split across impl.max 2 on a big-endian device: halves in order. */
  f->dev.n = 0;
  ops.impl.max_access_size = 2;
  {
    ArborMemoryRegion *mr = arbor_memory_region_new_io("be2", 0x10, &ops, &f->dev);
    arbor_memory_region_add_subregion(f->root, 0x5000, mr);
    g_object_unref(mr);
  }
  v = test_read(f->as, 0x5000, 4, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0x44332211);
  g_assert_cmpuint(f->dev.n, ==, 2);

  /* Writes are swapped to the device's order. */
  f->dev.n = 0;
  ops.read = test_device_read;
  ops.impl.max_access_size = 4;
  {
    ArborMemoryRegion *mr = arbor_memory_region_new_io("be-w", 0x10, &ops, &f->dev);
    arbor_memory_region_add_subregion(f->root, 0x6000, mr);
    g_object_unref(mr);
  }
  g_assert_cmpint(arbor_address_space_dispatch_write(f->as, 0x6000, 4, 0x44332211), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(f->dev.n, ==, 1);
  g_assert_cmpuint(f->dev.log[0].value, ==, 0x11223344);
}

static void
test_with_result(Fixture *f, gconstpointer data)
{
  ArborMemoryRegionOps ops = test_ops(1, 4, TRUE, 1, 4);
  guint64 v;

  ops.read_with_result = test_device_read_result;
  ops.write_with_result = test_device_write_result;
  add_io(f, 0x7000, 0x10, ops);
  f->dev.result = ARBOR_MEMTX_ACCESS_ERROR;
  test_read(f->as, 0x7000, 4, ARBOR_MEMTX_ACCESS_ERROR);
  g_assert_cmpint(arbor_address_space_dispatch_write(f->as, 0x7000, 4, 0), ==, ARBOR_MEMTX_ACCESS_ERROR);
  f->dev.result = ARBOR_MEMTX_OK;
  v = test_read(f->as, 0x7000, 1, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0);
  g_assert_cmpuint(f->dev.n, ==, 3);
}

static void
test_rom_writes(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborMemoryRegion) rom = arbor_memory_region_new_rom("rom", 0x1000, NULL, NULL, &error);
  g_autoptr(ArborMemoryRegion) flash = NULL;
  ArborMemoryRegionOps ops = test_ops(1, 4, TRUE, 1, 4);
  guint8 *host;
  const guint8 image[4] = { 1, 2, 3, 4 };
  guint8 buf[4];

  g_assert_no_error(error);
  host = arbor_memory_region_get_ram_ptr(rom);
  host[0] = 0x5a;
  arbor_memory_region_add_subregion(f->root, 0xf0000, rom);
  g_assert_cmpuint(test_read(f->as, 0xf0000, 1, ARBOR_MEMTX_OK), ==, 0x5a);
  /* Dropped. */
  g_assert_cmpint(arbor_address_space_dispatch_write(f->as, 0xf0000, 1, 0x77), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(host[0], ==, 0x5a);
  g_assert_cmpint(arbor_address_space_write(f->as, 0xf0000, image, 4), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(host[0], ==, 0x5a);
  /* Loaders can write. */
  g_assert_cmpint(arbor_address_space_write_rom(f->as, 0xf0000, image, 4), ==, ARBOR_MEMTX_OK);
  g_assert_cmpint(arbor_address_space_read(f->as, 0xf0000, buf, 4), ==, ARBOR_MEMTX_OK);
  g_assert_cmpmem(buf, 4, image, 4);

  /* A ROM with ops: writes go to the device, reads come from memory. */
  flash = arbor_memory_region_new_rom("flash", 0x1000, &ops, &f->dev, &error);
  g_assert_no_error(error);
  arbor_memory_region_add_subregion(f->root, 0xe0000, flash);
  g_assert_cmpint(arbor_address_space_dispatch_write(f->as, 0xe0010, 2, 0xabcd), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(f->dev.n, ==, 1);
  g_assert_cmpuint(f->dev.log[0].addr, ==, 0x10);
  g_assert_cmpuint(f->dev.log[0].value, ==, 0xabcd);
  g_assert_cmpuint(test_read(f->as, 0xe0010, 2, ARBOR_MEMTX_OK), ==, 0);
  g_assert_cmpuint(f->dev.n, ==, 1);
}

static void
test_rw_across(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x1000, 0xaa);
  guint8 buf[0x1010 + 8];
  guint8 in[12];
  guint8 *host = arbor_memory_region_get_ram_ptr(ram);

  /* [0, 0x1000) RAM, [0x1000, 0x1008) device, [0x1008, ...) hole. */
  f->dev.tag = 0;
  arbor_memory_region_add_subregion(f->root, 0, ram);
  add_io(f, 0x1000, 8, test_ops(1, 4, FALSE, 1, 4));

  memset(buf, 0x55, sizeof(buf));
  g_assert_cmpint(arbor_address_space_read(f->as, 0xffe, buf, 16), ==, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(buf[0], ==, 0xaa);
  g_assert_cmpuint(buf[1], ==, 0xaa);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpuint(buf[2 + i], ==, i);
  for (guint i = 10; i < 16; i++)
    g_assert_cmpuint(buf[i], ==, 0);
  /* Device accessed with the largest aligned sizes it accepts: 2 x 4. */
  g_assert_cmpuint(f->dev.n, ==, 2);
  g_assert_cmpuint(f->dev.log[0].size, ==, 4);
  g_assert_cmpuint(f->dev.log[1].addr, ==, 4);

  f->dev.n = 0;
  for (guint i = 0; i < sizeof(in); i++)
    in[i] = (guint8)(0xc0 + i);
  g_assert_cmpint(arbor_address_space_write(f->as, 0xffd, in, sizeof(in)), ==, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(host[0xffd], ==, 0xc0);
  g_assert_cmpuint(host[0xfff], ==, 0xc2);
  /* 8 device bytes: 4 + 4, then one unassigned byte. */
  g_assert_cmpuint(f->dev.n, ==, 2);
  g_assert_cmpuint(f->dev.log[0].value, ==, 0xc6c5c4c3);

  /* Whole RAM: OK, and a copy. */
  g_assert_cmpint(arbor_address_space_read(f->as, 0, buf, 0x1000), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(buf[0xffd], ==, 0xc0);
}

static void
test_host_ptr(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x2000, 0);
  guint8 *host = arbor_memory_region_get_ram_ptr(ram);

  arbor_memory_region_add_subregion(f->root, 0x10000, ram);
  add_io(f, 0x12000, 0x10, test_ops(1, 4, TRUE, 1, 4));
  g_assert_true(arbor_address_space_get_host_ptr(f->as, 0x10000, 0x2000) == host);
  g_assert_true(arbor_address_space_get_host_ptr(f->as, 0x10100, 16) == host + 0x100);
  g_assert_null(arbor_address_space_get_host_ptr(f->as, 0x11fff, 2));
  g_assert_null(arbor_address_space_get_host_ptr(f->as, 0x12000, 1));
  g_assert_null(arbor_address_space_get_host_ptr(f->as, 0x0, 1));
}

static void
test_access_count(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x1000, 0);
  ArborMemoryRegion *io;

  arbor_memory_region_add_subregion(f->root, 0, ram);
  io = add_io(f, 0x1000, 0x10, test_ops(1, 4, TRUE, 1, 1));
  for (int i = 0; i < 5; i++)
    test_read(f->as, 0x10, 4, ARBOR_MEMTX_OK);
  /* One count per dispatch, not per impl-sized callback. */
  test_read(f->as, 0x1000, 4, ARBOR_MEMTX_OK);
  g_assert_cmpuint(arbor_memory_region_get_access_count(ram), ==, 5);
  g_assert_cmpuint(arbor_memory_region_get_access_count(io), ==, 1);

  /* Counts survive new flat views and their reclamation. */
  arbor_memory_region_set_address(io, 0x2000);
  test_read(f->as, 0x2000, 1, ARBOR_MEMTX_OK);
  g_assert_cmpuint(arbor_memory_region_get_access_count(io), ==, 2);
  arbor_rcu_barrier();
  g_assert_cmpuint(arbor_memory_region_get_access_count(io), ==, 2);
  g_assert_cmpuint(arbor_memory_region_get_access_count(ram), ==, 5);
  /* An access the region refuses (valid.max is 4) was still dispatched to it. */
  test_read(f->as, 0x2000, 8, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(arbor_memory_region_get_access_count(io), ==, 3);
}

static void
test_direct_dispatch(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) box = arbor_memory_region_new_container("box", 0x100);
  ArborMemoryRegionOps ops = test_ops(1, 4, TRUE, 1, 4);
  g_autoptr(ArborMemoryRegion) io = arbor_memory_region_new_io("dev", 0x10, &ops, &f->dev);
  guint64 v = 0;

  f->dev.tag = 0x80;
  arbor_memory_region_add_subregion(box, 0x20, io);
  g_assert_cmpint(arbor_memory_region_dispatch_read(box, 0x22, 2, &v), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0x8382);
  g_assert_cmpuint(f->dev.log[0].size, ==, 2);
  g_assert_cmpint(arbor_memory_region_dispatch_read(box, 0x10, 2, &v), ==, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpint(arbor_memory_region_dispatch_read(io, 0x10, 1, &v), ==, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpint(arbor_memory_region_dispatch_write(io, 0x4, 4, 0x1234), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(f->dev.log[1].value, ==, 0x1234);
}

int
main(int argc, char **argv)
{
  gconstpointer mem = GINT_TO_POINTER(ARBOR_ADDRESS_SPACE_MEMORY);
  gconstpointer io = GINT_TO_POINTER(ARBOR_ADDRESS_SPACE_IO);

  g_test_init(&argc, &argv, NULL);

  g_test_add("/memory/split/impl-max", Fixture, mem, fixture_setup, test_split_impl_max, fixture_teardown);
  g_test_add("/memory/split/straddle-unassigned", Fixture, mem, fixture_setup, test_split_straddle_unassigned, fixture_teardown);
  g_test_add("/memory/split/straddle-io-space", Fixture, io, fixture_setup, test_split_straddle_io_space, fixture_teardown);
  g_test_add("/memory/split/two-regions", Fixture, mem, fixture_setup, test_split_two_regions, fixture_teardown);
  g_test_add("/memory/widen/aligned", Fixture, mem, fixture_setup, test_widen, fixture_teardown);
  g_test_add("/memory/widen/unaligned-straddle", Fixture, mem, fixture_setup, test_widen_unaligned_straddle, fixture_teardown);
  g_test_add("/memory/valid/size", Fixture, mem, fixture_setup, test_valid_size, fixture_teardown);
  g_test_add("/memory/valid/defaults", Fixture, mem, fixture_setup, test_valid_defaults, fixture_teardown);
  g_test_add("/memory/valid/unaligned", Fixture, mem, fixture_setup, test_valid_unaligned, fixture_teardown);
  g_test_add("/memory/unassigned/memory", Fixture, mem, fixture_setup, test_unassigned_memory, fixture_teardown);
  g_test_add("/memory/unassigned/io", Fixture, io, fixture_setup, test_unassigned_io, fixture_teardown);
  g_test_add_func("/memory/unassigned/log-rate-limited", test_unassigned_log_rate_limited);
  g_test_add("/memory/endian/big", Fixture, mem, fixture_setup, test_big_endian, fixture_teardown);
  g_test_add("/memory/ops/with-result", Fixture, mem, fixture_setup, test_with_result, fixture_teardown);
  g_test_add("/memory/rom/writes", Fixture, mem, fixture_setup, test_rom_writes, fixture_teardown);
  g_test_add("/memory/rw/across-ram-io-hole", Fixture, mem, fixture_setup, test_rw_across, fixture_teardown);
  g_test_add("/memory/rw/host-ptr", Fixture, mem, fixture_setup, test_host_ptr, fixture_teardown);
  g_test_add("/memory/stats/access-count", Fixture, mem, fixture_setup, test_access_count, fixture_teardown);
  g_test_add("/memory/region/direct-dispatch", Fixture, mem, fixture_setup, test_direct_dispatch, fixture_teardown);
  return g_test_run();
}
