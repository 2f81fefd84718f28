/* Memory API: topology (priorities, holes, aliases, nesting, run-time changes). */
#include "memory-test-util.h"

typedef struct {
  ArborMemoryRegion *root;
  ArborAddressSpace *as;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  f->root = arbor_memory_region_new_container("root", ARBOR_MEMORY_SIZE_4G64);
  f->as = arbor_address_space_new("memory", f->root, ARBOR_ADDRESS_SPACE_MEMORY);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_clear_object(&f->as);
  g_clear_object(&f->root);
}

static guint8
byte_at(Fixture *f, guint64 addr)
{
  guint64 v = 0;

  arbor_address_space_dispatch_read(f->as, addr, 1, &v);
  return (guint8)v;
}

static void
test_priority_overlap(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) low = test_ram_new("low", 0x2000, 0x11);
  g_autoptr(ArborMemoryRegion) high = test_ram_new("high", 0x1000, 0x22);

  arbor_memory_region_add_subregion_overlap(f->root, 0x1000, high, 1);
  arbor_memory_region_add_subregion_overlap(f->root, 0x0000, low, 0);

  g_assert_cmpuint(byte_at(f, 0x0000), ==, 0x11);
  g_assert_cmpuint(byte_at(f, 0x0fff), ==, 0x11);
  g_assert_cmpuint(byte_at(f, 0x1000), ==, 0x22);
  g_assert_cmpuint(byte_at(f, 0x1fff), ==, 0x22);
  g_assert_cmpuint(byte_at(f, 0x2000), ==, 0x00);
  g_assert_cmpint(arbor_memory_region_get_priority(high), ==, 1);
  g_assert_true(arbor_memory_region_get_container(high) == f->root);
  g_assert_cmpuint(arbor_memory_region_get_address(high), ==, 0x1000);
}

static void
test_priority_newest_wins(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) first = test_ram_new("first", 0x1000, 0x11);
  g_autoptr(ArborMemoryRegion) second = test_ram_new("second", 0x1000, 0x22);
  g_autoptr(ArborMemoryRegion) lower = test_ram_new("lower", 0x1000, 0x33);

  arbor_memory_region_add_subregion_overlap(f->root, 0, first, 5);
  arbor_memory_region_add_subregion_overlap(f->root, 0, second, 5);
  arbor_memory_region_add_subregion_overlap(f->root, 0, lower, 4);
  g_assert_cmpuint(byte_at(f, 0x10), ==, 0x22);

  arbor_memory_region_del_subregion(f->root, second);
  g_assert_cmpuint(byte_at(f, 0x10), ==, 0x11);
  /* Re-added: newest again. */
  arbor_memory_region_add_subregion_overlap(f->root, 0, second, 5);
  g_assert_cmpuint(byte_at(f, 0x10), ==, 0x22);
}

static void
test_container_holes(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) background = test_ram_new("background", 0x4000, 0xbb);
  g_autoptr(ArborMemoryRegion) box = arbor_memory_region_new_container("box", 0x4000);
  g_autoptr(ArborMemoryRegion) inner = test_ram_new("inner", 0x1000, 0x55);

  arbor_memory_region_add_subregion(box, 0x1000, inner);
  arbor_memory_region_add_subregion_overlap(f->root, 0, box, 10);
  arbor_memory_region_add_subregion_overlap(f->root, 0, background, 0);

  g_assert_cmpuint(byte_at(f, 0x0000), ==, 0xbb); /* hole in box */
  g_assert_cmpuint(byte_at(f, 0x1000), ==, 0x55);
  g_assert_cmpuint(byte_at(f, 0x2000), ==, 0xbb);
  g_assert_cmpuint(byte_at(f, 0x3fff), ==, 0xbb);
}

static void
test_alias_basic(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x4000, 0);
  g_autoptr(ArborMemoryRegion) alias = arbor_memory_region_new_alias("win", ram, 0x2000, 0x1000);
  guint8 *host = arbor_memory_region_get_ram_ptr(ram);

  host[0x2000] = 0xa1;
  host[0x2fff] = 0xa2;
  host[0x3000] = 0xa3;
  arbor_memory_region_add_subregion(f->root, 0x10000, alias);

  g_assert_cmpint(arbor_memory_region_get_kind(alias), ==, ARBOR_MEMORY_REGION_ALIAS);
  g_assert_cmpuint(byte_at(f, 0x10000), ==, 0xa1);
  g_assert_cmpuint(byte_at(f, 0x10fff), ==, 0xa2);
  test_read(f->as, 0x11000, 1, ARBOR_MEMTX_DECODE_ERROR); /* clipped to the alias size */

  /* Writes through the alias land in the target. */
  g_assert_cmpint(arbor_address_space_dispatch_write(f->as, 0x10010, 2, 0xbeef), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(host[0x2010], ==, 0xef);
  g_assert_cmpuint(host[0x2011], ==, 0xbe);

  arbor_memory_region_set_alias_offset(alias, 0x3000);
  g_assert_cmpuint(byte_at(f, 0x10000), ==, 0xa3);
}

static void
test_alias_of_alias(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x4000, 0);
  g_autoptr(ArborMemoryRegion) a1 = arbor_memory_region_new_alias("a1", ram, 0x1000, 0x3000);
  g_autoptr(ArborMemoryRegion) a2 = arbor_memory_region_new_alias("a2", a1, 0x1000, 0x1000);
  guint8 *host = arbor_memory_region_get_ram_ptr(ram);
  guint64 v;

  host[0x2000] = 0x42;
  host[0x2abc] = 0x43;
  arbor_memory_region_add_subregion(f->root, 0x5000, a2);
  g_assert_cmpuint(byte_at(f, 0x5000), ==, 0x42);
  g_assert_cmpuint(byte_at(f, 0x5abc), ==, 0x43);

  /* Changing the inner alias reaches the space through the outer one. */
  host[0x1000] = 0x44;
  arbor_memory_region_set_alias_offset(a1, 0);
  g_assert_cmpuint(byte_at(f, 0x5000), ==, 0x44);

  /* Direct dispatch on an alias goes to the target too. */
  g_assert_cmpint(arbor_memory_region_dispatch_read(a2, 0, 1, &v), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0x44);
}

static void
test_alias_of_container(Fixture *f, gconstpointer data)
{
  /* A standalone container aliased into the space: changes in it propagate. */
  g_autoptr(ArborMemoryRegion) box = arbor_memory_region_new_container("box", 0x10000);
  g_autoptr(ArborMemoryRegion) alias = arbor_memory_region_new_alias("view", box, 0, 0x10000);
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x1000, 0x77);
  guint64 gen;

  arbor_memory_region_add_subregion(f->root, 0x100000, alias);
  gen = arbor_address_space_get_generation(f->as);
  g_assert_cmpuint(byte_at(f, 0x101000), ==, 0);
  arbor_memory_region_add_subregion(box, 0x1000, ram);
  g_assert_cmpuint(byte_at(f, 0x101000), ==, 0x77);
  g_assert_cmpuint(arbor_address_space_get_generation(f->as), >, gen);
}

static void
test_nested(Fixture *f, gconstpointer data)
{
  ArborMemoryRegion *parent = f->root;
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_object_unref);
  g_autoptr(ArborMemoryRegion) leaf = test_ram_new("leaf", 0x1000, 0x99);
  guint64 base = 0;

  /* Eight levels, each container at offset 0x1000 in its parent. */
  for (int i = 0; i < 8; i++) {
    g_autofree char *name = g_strdup_printf("level%d", i);
    ArborMemoryRegion *c = arbor_memory_region_new_container(name, 0x100000);
    arbor_memory_region_add_subregion(parent, 0x1000, c);
    g_ptr_array_add(keep, c);
    parent = c;
    base += 0x1000;
  }
  arbor_memory_region_add_subregion(parent, 0x10, leaf);
  g_assert_cmpuint(byte_at(f, base + 0x10), ==, 0x99);
  g_assert_cmpuint(byte_at(f, base + 0xf), ==, 0);

  /* Moving a middle level moves everything below it. */
  arbor_memory_region_set_address(g_ptr_array_index(keep, 3), 0x2000);
  g_assert_cmpuint(byte_at(f, base + 0x10), ==, 0);
  g_assert_cmpuint(byte_at(f, base + 0x1000 + 0x10), ==, 0x99);
}

static void
test_clip_to_container(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) box = arbor_memory_region_new_container("box", 0x1800);
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x2000, 0x66);

  arbor_memory_region_add_subregion(box, 0, ram);
  arbor_memory_region_add_subregion(f->root, 0, box);
  g_assert_cmpuint(byte_at(f, 0x17ff), ==, 0x66);
  test_read(f->as, 0x1800, 1, ARBOR_MEMTX_DECODE_ERROR);
}

static void
test_enable_disable(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) under = test_ram_new("under", 0x1000, 0x01);
  g_autoptr(ArborMemoryRegion) over = test_ram_new("over", 0x1000, 0x02);

  arbor_memory_region_add_subregion_overlap(f->root, 0, under, 0);
  arbor_memory_region_add_subregion_overlap(f->root, 0, over, 1);
  g_assert_cmpuint(byte_at(f, 0), ==, 0x02);
  arbor_memory_region_set_enabled(over, FALSE);
  g_assert_false(arbor_memory_region_get_enabled(over));
  g_assert_cmpuint(byte_at(f, 0), ==, 0x01);
  arbor_memory_region_set_enabled(under, FALSE);
  test_read(f->as, 0, 1, ARBOR_MEMTX_DECODE_ERROR);
  arbor_memory_region_set_enabled(over, TRUE);
  g_assert_cmpuint(byte_at(f, 0), ==, 0x02);
}

static void
test_remove_and_move(Fixture *f, gconstpointer data)
{
  ArborMemoryRegion *ram = test_ram_new("ram", 0x1000, 0x5a);
  GWeakRef weak;

  g_weak_ref_init(&weak, ram);
  arbor_memory_region_add_subregion(f->root, 0x1000, ram);
  g_assert_cmpuint(byte_at(f, 0x1000), ==, 0x5a);

  arbor_memory_region_set_address(ram, 0x8000);
  g_assert_cmpuint(byte_at(f, 0x1000), ==, 0);
  g_assert_cmpuint(byte_at(f, 0x8000), ==, 0x5a);

  /* After removal and our unref, the region dies once the old views are
   * reclaimed. */
  g_object_unref(ram);
  arbor_memory_region_del_subregion(f->root, ram);
  test_read(f->as, 0x8000, 1, ARBOR_MEMTX_DECODE_ERROR);
  arbor_rcu_barrier();
  {
    GObject *alive = g_weak_ref_get(&weak);
    g_assert_null(alive);
  }
  g_weak_ref_clear(&weak);
}

static void
test_whole_space(Fixture *f, gconstpointer data)
{
  TestDevice dev;
  g_autoptr(ArborMemoryRegion) io = test_io_new("everything", ARBOR_MEMORY_SIZE_4G64, &dev, 0);
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x1000, 0x12);
  guint64 v;

  g_assert_cmpuint(arbor_memory_region_get_size(f->root), ==, G_MAXUINT64);
  arbor_memory_region_add_subregion(f->root, 0, io);
  v = test_read(f->as, G_MAXUINT64, 1, ARBOR_MEMTX_OK);
  g_assert_cmpuint(dev.n, ==, 1);
  g_assert_cmpuint(dev.log[0].addr, ==, G_MAXUINT64);
  g_assert_cmpuint(v, ==, 0xff);

  /* RAM on top in the middle splits the I/O range in two. */
  arbor_memory_region_add_subregion_overlap(f->root, 0x10000, ram, 1);
  g_assert_cmpuint(byte_at(f, 0x10000), ==, 0x12);
  dev.n = 0;
  test_read(f->as, 0x11000, 1, ARBOR_MEMTX_OK);
  g_assert_cmpuint(dev.log[0].addr, ==, 0x11000);

  /* A region near the top clipped to 2^64. */
  arbor_memory_region_del_subregion(f->root, ram);
  arbor_memory_region_add_subregion_overlap(f->root, G_MAXUINT64 - 0x7ff, ram, 1);
  g_assert_cmpuint(byte_at(f, G_MAXUINT64), ==, 0x12);
}

static void
test_transaction(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) a = test_ram_new("a", 0x1000, 0xa);
  g_autoptr(ArborMemoryRegion) b = test_ram_new("b", 0x1000, 0xb);
  guint64 gen = arbor_address_space_get_generation(f->as);

  arbor_address_space_begin(f->as);
  arbor_address_space_begin(f->as);
  arbor_memory_region_add_subregion(f->root, 0, a);
  arbor_memory_region_add_subregion(f->root, 0x1000, b);
  arbor_address_space_commit(f->as);
  /* Still inside the outer transaction: the old view serves. */
  test_read(f->as, 0, 1, ARBOR_MEMTX_DECODE_ERROR);
  g_assert_cmpuint(arbor_address_space_get_generation(f->as), ==, gen);
  arbor_address_space_commit(f->as);
  g_assert_cmpuint(byte_at(f, 0), ==, 0xa);
  g_assert_cmpuint(byte_at(f, 0x1000), ==, 0xb);
  g_assert_cmpuint(arbor_address_space_get_generation(f->as), ==, gen + 1);

  /* A no-op change does not bump the generation. */
  arbor_memory_region_set_enabled(a, TRUE);
  g_assert_cmpuint(arbor_address_space_get_generation(f->as), ==, gen + 1);
}

static void
test_two_spaces_share_tree(Fixture *f, gconstpointer data)
{
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x1000, 0x31);
  g_autoptr(ArborAddressSpace) other = arbor_address_space_new("other", f->root, ARBOR_ADDRESS_SPACE_MEMORY);
  guint64 v = 0;

  arbor_memory_region_add_subregion(f->root, 0x3000, ram);
  g_assert_cmpint(arbor_address_space_dispatch_read(other, 0x3000, 1, &v), ==, ARBOR_MEMTX_OK);
  g_assert_cmpuint(v, ==, 0x31);
  g_assert_cmpuint(byte_at(f, 0x3000), ==, 0x31);
  g_assert_true(arbor_address_space_get_root(other) == f->root);
  g_assert_cmpstr(arbor_address_space_get_name(other), ==, "other");
}

static void
test_owner_lifetime(Fixture *f, gconstpointer data)
{
  GObject *owner = g_object_new(G_TYPE_OBJECT, NULL);
  TestDevice dev;
  ArborMemoryRegion *io = test_io_new("owned", 0x10, &dev, 0);
  GWeakRef weak_owner, weak_region;

  g_weak_ref_init(&weak_owner, owner);
  g_weak_ref_init(&weak_region, io);
  arbor_memory_region_set_owner(io, owner);
  g_assert_true(arbor_memory_region_get_owner(io) == owner);
  arbor_memory_region_add_subregion(f->root, 0x1000, io);
  /* The device drops its own references; the view keeps both alive. */
  g_object_unref(owner);
  g_object_unref(io);
  {
    g_autoptr(GObject) alive = g_weak_ref_get(&weak_owner);
    g_assert_nonnull(alive);
  }
  test_read(f->as, 0x1000, 1, ARBOR_MEMTX_OK);
  arbor_memory_region_del_subregion(f->root, io);
  arbor_rcu_barrier();
  {
    GObject *gone_owner = g_weak_ref_get(&weak_owner);
    GObject *gone_region = g_weak_ref_get(&weak_region);
    g_assert_null(gone_owner);
    g_assert_null(gone_region);
  }
  g_weak_ref_clear(&weak_owner);
  g_weak_ref_clear(&weak_region);
}

static void
test_ram_errors(void)
{
  g_autoptr(GError) error = NULL;
  ArborMemoryRegion *mr;

  mr = arbor_memory_region_new_ram("odd", 123, &error);
  g_assert_null(mr);
  g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID);
  g_clear_error(&error);
  mr = arbor_memory_region_new_ram("empty", 0, &error);
  g_assert_null(mr);
  g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID);
}

static void
test_ram_zeroed_aligned(void)
{
  g_autoptr(ArborMemoryRegion) ram = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *host;

  ram = arbor_memory_region_new_ram("ram", 0x10000, &error);
  g_assert_no_error(error);
  host = arbor_memory_region_get_ram_ptr(ram);
  g_assert_nonnull(host);
  g_assert_cmpuint((guintptr)host % 4096, ==, 0);
  for (guint i = 0; i < 0x10000; i++)
    if (host[i] != 0)
      g_assert_cmpuint(host[i], ==, 0);
  g_assert_cmpint(arbor_memory_region_get_kind(ram), ==, ARBOR_MEMORY_REGION_RAM);
  g_assert_cmpstr(arbor_memory_region_get_name(ram), ==, "ram");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD("/memory/priority/overlap", test_priority_overlap);
  ADD("/memory/priority/newest-wins", test_priority_newest_wins);
  ADD("/memory/container/holes", test_container_holes);
  ADD("/memory/container/clip", test_clip_to_container);
  ADD("/memory/container/nested", test_nested);
  ADD("/memory/container/whole-space", test_whole_space);
  ADD("/memory/alias/basic", test_alias_basic);
  ADD("/memory/alias/alias-of-alias", test_alias_of_alias);
  ADD("/memory/alias/of-container", test_alias_of_container);
  ADD("/memory/topology/enable-disable", test_enable_disable);
  ADD("/memory/topology/remove-and-move", test_remove_and_move);
  ADD("/memory/topology/transaction", test_transaction);
  ADD("/memory/topology/two-spaces", test_two_spaces_share_tree);
  ADD("/memory/topology/owner-lifetime", test_owner_lifetime);
#undef ADD
  g_test_add_func("/memory/ram/errors", test_ram_errors);
  g_test_add_func("/memory/ram/zeroed-aligned", test_ram_zeroed_aligned);
  return g_test_run();
}
