/* Shared helpers for the memory API unit tests: a recording test device. */
#pragma once

#include <arbor/arbor.h>

#include "memory-private.h" /* arbor_rcu_barrier() */

#include <string.h>

#define TEST_LOG_MAX 64

/* One recorded callback. */
typedef struct {
  gboolean is_write;
  guint64 addr;
  guint size;
  guint64 value;
} TestAccess;

/* A device whose read at offset o of size s returns the bytes
 * (tag + o + i) for i < s, little-endian (or big-endian for BE ops),
 * and which records every callback. */
typedef struct {
  guint8 tag;
  gboolean big;
  guint n;
  TestAccess log[TEST_LOG_MAX];
  ArborMemTxResult result; /* returned by the *_with_result callbacks */
} TestDevice;

static inline guint64
test_device_value(TestDevice *dev, guint64 addr, guint size)
{
  guint64 v = 0;

  for (guint i = 0; i < size; i++) {
    guint8 b = (guint8)(dev->tag + addr + i);
    if (dev->big)
      v |= (guint64)b << ((size - 1 - i) * 8);
    else
      v |= (guint64)b << (i * 8);
  }
  return v;
}

static inline void
test_device_record(TestDevice *dev, gboolean is_write, guint64 addr, guint size, guint64 value)
{
  if (dev->n < TEST_LOG_MAX)
    dev->log[dev->n] = (TestAccess){ is_write, addr, size, value };
  dev->n++;
}

static inline guint64
test_device_read(gpointer opaque, guint64 addr, guint size)
{
  TestDevice *dev = opaque;
  guint64 v = test_device_value(dev, addr, size);

  test_device_record(dev, FALSE, addr, size, v);
  return v;
}

static inline void
test_device_write(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  test_device_record(opaque, TRUE, addr, size, value);
}

static inline ArborMemTxResult
test_device_read_result(gpointer opaque, guint64 addr, guint size, guint64 *value)
{
  TestDevice *dev = opaque;

  *value = test_device_read(opaque, addr, size);
  return dev->result;
}

static inline ArborMemTxResult
test_device_write_result(gpointer opaque, guint64 addr, guint size, guint64 value)
{
  TestDevice *dev = opaque;

  test_device_write(opaque, addr, size, value);
  return dev->result;
}

/* Ops with the given valid/impl sizes (0 = QEMU default). */
static inline ArborMemoryRegionOps
test_ops(guint vmin, guint vmax, gboolean unaligned, guint imin, guint imax)
{
  ArborMemoryRegionOps ops = {
    .read = test_device_read,
    .write = test_device_write,
    .valid = { vmin, vmax, unaligned },
    .impl = { imin, imax, FALSE },
  };
  return ops;
}

static inline ArborMemoryRegion *
test_io_new(const char *name, guint64 size, TestDevice *dev, guint8 tag)
{
  ArborMemoryRegionOps ops = test_ops(1, 8, TRUE, 1, 8);

  memset(dev, 0, sizeof(*dev));
  dev->tag = tag;
  return arbor_memory_region_new_io(name, size, &ops, dev);
}

static inline ArborMemoryRegion *
test_ram_new(const char *name, guint64 size, guint8 fill)
{
  g_autoptr(GError) error = NULL;
  ArborMemoryRegion *mr = arbor_memory_region_new_ram(name, size, &error);

  g_assert_no_error(error);
  g_assert_nonnull(mr);
  memset(arbor_memory_region_get_ram_ptr(mr), fill, size);
  return mr;
}

static inline guint64
test_read(ArborAddressSpace *as, guint64 addr, guint size, ArborMemTxResult expected)
{
  guint64 v = 0xdeadbeefdeadbeefull;

  g_assert_cmpint(arbor_address_space_dispatch_read(as, addr, size, &v), ==, expected);
  return v;
}
