/* Memory API: listeners (add/del sequences, replay). */
#include "memory-test-util.h"

/* A listener that records its calls as text lines. */
#define TEST_TYPE_LISTENER (test_listener_get_type())
G_DECLARE_FINAL_TYPE(TestListener, test_listener, TEST, LISTENER, GObject)

struct _TestListener {
  GObject parent_instance;
  GString *log;                /* owned */
  ArborMemoryRegion *toggle;   /* not owned: disabled from section_add once */
};

static void test_listener_iface_init(ArborMemoryListenerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(TestListener, test_listener, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(ARBOR_TYPE_MEMORY_LISTENER, test_listener_iface_init))

static void
test_listener_finalize(GObject *object)
{
  TestListener *self = TEST_LISTENER(object);

  g_string_free(self->log, TRUE);
  G_OBJECT_CLASS(test_listener_parent_class)->finalize(object);
}

static void
test_listener_class_init(TestListenerClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = test_listener_finalize;
}

static void
test_listener_init(TestListener *self)
{
  self->log = g_string_new(NULL);
}

static void
listener_begin(ArborMemoryListener *l, ArborAddressSpace *as)
{
  g_string_append(TEST_LISTENER(l)->log, "begin\n");
}

static void
listener_commit(ArborMemoryListener *l, ArborAddressSpace *as)
{
  g_string_append(TEST_LISTENER(l)->log, "commit\n");
}

static void
listener_section(TestListener *self, const char *what, const ArborMemorySection *s)
{
  g_string_append_printf(self->log, "%s %s 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER "x @0x%"
                         G_GINT64_MODIFIER "x%s%s\n",
                         what, arbor_memory_region_get_name(s->mr), s->offset_within_address_space, s->size,
                         s->offset_within_region, s->host != NULL ? " host" : "", s->readonly ? " ro" : "");
}

static void
listener_add(ArborMemoryListener *l, ArborAddressSpace *as, const ArborMemorySection *s)
{
  TestListener *self = TEST_LISTENER(l);

  listener_section(self, "add", s);
  /* Changing the topology from a callback: re-entrant commit. */
  if (self->toggle != NULL && s->mr == self->toggle) {
    ArborMemoryRegion *mr = g_steal_pointer(&self->toggle);
    arbor_memory_region_set_enabled(mr, FALSE);
  }
}

static void
listener_del(ArborMemoryListener *l, ArborAddressSpace *as, const ArborMemorySection *s)
{
  listener_section(TEST_LISTENER(l), "del", s);
}

static void
test_listener_iface_init(ArborMemoryListenerInterface *iface)
{
  iface->begin = listener_begin;
  iface->commit = listener_commit;
  iface->section_add = listener_add;
  iface->section_del = listener_del;
}

static char *
take_log(TestListener *l)
{
  char *s = g_strdup(l->log->str);

  g_string_truncate(l->log, 0);
  return s;
}

static void
test_listener_sequences(void)
{
  g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("root", ARBOR_MEMORY_SIZE_4G64);
  g_autoptr(ArborAddressSpace) as = arbor_address_space_new("memory", root, ARBOR_ADDRESS_SPACE_MEMORY);
  g_autoptr(TestListener) l = g_object_new(TEST_TYPE_LISTENER, NULL);
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x2000, 0);
  g_autoptr(ArborMemoryRegion) hole = test_ram_new("top", 0x1000, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborMemoryRegion) rom = arbor_memory_region_new_rom("rom", 0x1000, NULL, NULL, &error);
  TestDevice dev;
  g_autoptr(ArborMemoryRegion) io = test_io_new("dev", 0x10, &dev, 0);
  g_autofree char *log = NULL;

  g_assert_no_error(error);
  arbor_address_space_add_listener(as, ARBOR_MEMORY_LISTENER(l));
  log = take_log(l);
  g_assert_cmpstr(log, ==, "begin\ncommit\n");
  g_clear_pointer(&log, g_free);

  arbor_memory_region_add_subregion(root, 0x10000, ram);
  log = take_log(l);
  g_assert_cmpstr(log, ==, "begin\nadd ram 0x10000+0x2000 @0x0 host\ncommit\n");
  g_clear_pointer(&log, g_free);

  /* A region on top splits the RAM section: deleted and added again. */
  arbor_memory_region_add_subregion_overlap(root, 0x11000, hole, 1);
  log = take_log(l);
  g_assert_cmpstr(log, ==,
                  "begin\n"
                  "del ram 0x10000+0x2000 @0x0 host\n"
                  "add ram 0x10000+0x1000 @0x0 host\n"
                  "add top 0x11000+0x1000 @0x0 host\n"
                  "commit\n");
  g_clear_pointer(&log, g_free);

  /* A transaction: one notification for several changes; untouched
   * sections are not repeated. */
  arbor_address_space_begin(as);
  arbor_memory_region_add_subregion(root, 0xf0000, rom);
  arbor_memory_region_add_subregion(root, 0x3f8, io);
  arbor_memory_region_del_subregion(root, hole);
  log = take_log(l);
  g_assert_cmpstr(log, ==, "");
  g_clear_pointer(&log, g_free);
  arbor_address_space_commit(as);
  log = take_log(l);
  g_assert_cmpstr(log, ==,
                  "begin\n"
                  "del ram 0x10000+0x1000 @0x0 host\n"
                  "del top 0x11000+0x1000 @0x0 host\n"
                  "add dev 0x3f8+0x10 @0x0\n"
                  "add ram 0x10000+0x2000 @0x0 host\n"
                  "add rom 0xf0000+0x1000 @0x0 host ro\n"
                  "commit\n");
  g_clear_pointer(&log, g_free);

  /* Moving a section: del + add. */
  arbor_memory_region_set_address(io, 0x2f8);
  log = take_log(l);
  g_assert_cmpstr(log, ==, "begin\ndel dev 0x3f8+0x10 @0x0\nadd dev 0x2f8+0x10 @0x0\ncommit\n");
  g_clear_pointer(&log, g_free);

  /* Nothing changed: no notification. */
  arbor_memory_region_set_enabled(io, TRUE);
  log = take_log(l);
  g_assert_cmpstr(log, ==, "");
  g_clear_pointer(&log, g_free);

  /* Removal replays del for every current section. */
  arbor_address_space_remove_listener(as, ARBOR_MEMORY_LISTENER(l));
  log = take_log(l);
  g_assert_cmpstr(log, ==,
                  "begin\n"
                  "del dev 0x2f8+0x10 @0x0\n"
                  "del ram 0x10000+0x2000 @0x0 host\n"
                  "del rom 0xf0000+0x1000 @0x0 host ro\n"
                  "commit\n");
  g_clear_pointer(&log, g_free);
  arbor_memory_region_set_enabled(io, FALSE);
  g_assert_cmpuint(l->log->len, ==, 0);
}

static void
test_listener_replay(void)
{
  g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("root", ARBOR_MEMORY_SIZE_4G64);
  g_autoptr(ArborAddressSpace) as = arbor_address_space_new("memory", root, ARBOR_ADDRESS_SPACE_MEMORY);
  g_autoptr(TestListener) l = g_object_new(TEST_TYPE_LISTENER, NULL);
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x4000, 0);
  g_autoptr(ArborMemoryRegion) alias = arbor_memory_region_new_alias("high", ram, 0x1000, 0x2000);
  g_autofree char *log = NULL;

  arbor_memory_region_add_subregion(root, 0, ram);
  arbor_memory_region_add_subregion(root, 0x100000, alias);
  arbor_address_space_add_listener(as, ARBOR_MEMORY_LISTENER(l));
  log = take_log(l);
  /* Aliases are resolved: the section names the RAM, at its offset. */
  g_assert_cmpstr(log, ==,
                  "begin\n"
                  "add ram 0x0+0x4000 @0x0 host\n"
                  "add ram 0x100000+0x2000 @0x1000 host\n"
                  "commit\n");
  arbor_address_space_remove_listener(as, ARBOR_MEMORY_LISTENER(l));
}

static void
test_listener_host_pointer(void)
{
  g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("root", ARBOR_MEMORY_SIZE_4G64);
  g_autoptr(ArborAddressSpace) as = arbor_address_space_new("memory", root, ARBOR_ADDRESS_SPACE_MEMORY);
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x4000, 0);
  g_autoptr(ArborMemoryRegion) alias = arbor_memory_region_new_alias("high", ram, 0x1000, 0x2000);
  ArborMemorySection s = { 0 };
  guint8 *host = arbor_memory_region_get_ram_ptr(ram);

  arbor_memory_region_add_subregion(root, 0x100000, alias);
  /* The section's host pointer is already offset. */
  g_assert_true(arbor_address_space_get_host_ptr(as, 0x100000, 0x2000) == host + 0x1000);
  s.host = arbor_address_space_get_host_ptr(as, 0x100000, 1);
  g_assert_true(s.host == host + 0x1000);
}

static void
test_listener_whole_space_size(void)
{
  g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("root", ARBOR_MEMORY_SIZE_4G64);
  g_autoptr(ArborAddressSpace) as = arbor_address_space_new("memory", root, ARBOR_ADDRESS_SPACE_MEMORY);
  g_autoptr(TestListener) l = g_object_new(TEST_TYPE_LISTENER, NULL);
  TestDevice dev;
  g_autoptr(ArborMemoryRegion) io = test_io_new("all", ARBOR_MEMORY_SIZE_4G64, &dev, 0);
  g_autofree char *log = NULL;

  arbor_memory_region_add_subregion(root, 0, io);
  arbor_address_space_add_listener(as, ARBOR_MEMORY_LISTENER(l));
  log = take_log(l);
  /* size 0 means 2^64. */
  g_assert_cmpstr(log, ==, "begin\nadd all 0x0+0x0 @0x0\ncommit\n");
  arbor_address_space_remove_listener(as, ARBOR_MEMORY_LISTENER(l));
}

static void
test_listener_reentrant(void)
{
  g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("root", ARBOR_MEMORY_SIZE_4G64);
  g_autoptr(ArborAddressSpace) as = arbor_address_space_new("memory", root, ARBOR_ADDRESS_SPACE_MEMORY);
  g_autoptr(TestListener) l = g_object_new(TEST_TYPE_LISTENER, NULL);
  g_autoptr(ArborMemoryRegion) a = test_ram_new("a", 0x1000, 0);
  g_autoptr(ArborMemoryRegion) b = test_ram_new("b", 0x1000, 0);
  g_autofree char *log = NULL;
  g_autofree char *dump = NULL;

  arbor_address_space_add_listener(as, ARBOR_MEMORY_LISTENER(l));
  g_string_truncate(l->log, 0);
  l->toggle = b;
  arbor_address_space_begin(as);
  arbor_memory_region_add_subregion(root, 0x0, a);
  arbor_memory_region_add_subregion(root, 0x1000, b);
  arbor_address_space_commit(as);
  arbor_rcu_barrier();
  log = take_log(l);
  /* The nested commit (b disabled) is reported inside the outer one. */
  g_assert_cmpstr(log, ==,
                  "begin\n"
                  "add a 0x0+0x1000 @0x0 host\n"
                  "add b 0x1000+0x1000 @0x0 host\n"
                  "begin\n"
                  "del b 0x1000+0x1000 @0x0 host\n"
                  "commit\n"
                  "commit\n");
  dump = arbor_address_space_dump(as);
  g_assert_null(strstr(dump, "(ram): b @"));
  arbor_address_space_remove_listener(as, ARBOR_MEMORY_LISTENER(l));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/memory/listener/sequences", test_listener_sequences);
  g_test_add_func("/memory/listener/replay", test_listener_replay);
  g_test_add_func("/memory/listener/host-pointer", test_listener_host_pointer);
  g_test_add_func("/memory/listener/whole-space-size", test_listener_whole_space_size);
  g_test_add_func("/memory/listener/reentrant", test_listener_reentrant);
  return g_test_run();
}
