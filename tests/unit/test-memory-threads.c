/* Memory API: dispatch from other threads while the main thread changes
 * the topology. Every value read must be one that a region mapped at that
 * moment returns (no torn view), and a removed region's device state must
 * stay valid until the dispatch into it returns (no use after free: run
 * under ASan and TSan too). */
#include "memory-test-util.h"

#define N_SLOTS 8
#define N_IDS 8
#define N_OPS 20000
#define N_READERS 2
#define SLOT_SIZE 0x1000
#define ALIVE_MAGIC 0x600dcafe
#define DEAD_MAGIC 0xdeadd00d

typedef enum {
  OP_NONE,
  OP_ADD,
  OP_DEL,
  OP_MOVE,
  OP_TOGGLE,
} ChangeOp;

typedef struct {
  guint32 magic; /* ALIVE_MAGIC until the region is finalized */
  int id;
  gint *live;    /* count of live devices, shared */
} Device;

typedef struct {
  ArborAddressSpace *as;
  /* history[e * N_SLOTS + s]: id mapped at slot s after change e, or -1. */
  gint *history;
  gint epoch;       /* atomic: last change applied */
  gint stop;        /* atomic */
  gint errors;      /* atomic */
  gint64 reads;     /* atomic */
  gint live;        /* atomic: devices alive */
} Shared;

static guint64
device_read(gpointer opaque, guint64 addr, guint size)
{
  Device *dev = opaque;

  if (__atomic_load_n(&dev->magic, __ATOMIC_RELAXED) != ALIVE_MAGIC)
    return 0xbad;
  return 0x5a000000u | ((guint64)dev->id << 16) | (addr & 0xffff);
}

static void
device_free(gpointer data, GObject *where_the_object_was)
{
  Device *dev = data;

  __atomic_store_n(&dev->magic, DEAD_MAGIC, __ATOMIC_RELAXED);
  __atomic_fetch_sub(dev->live, 1, __ATOMIC_RELAXED);
  g_free(dev);
}

static ArborMemoryRegion *
region_new(Shared *sh, int id)
{
  static const ArborMemoryRegionOps ops = {
    .read = device_read,
    .valid = { 1, 4, FALSE },
    .impl = { 4, 4, FALSE },
  };
  Device *dev = g_new0(Device, 1);
  g_autofree char *name = g_strdup_printf("dev%d", id);
  ArborMemoryRegion *mr;

  dev->magic = ALIVE_MAGIC;
  dev->id = id;
  dev->live = &sh->live;
  __atomic_fetch_add(&sh->live, 1, __ATOMIC_RELAXED);
  mr = arbor_memory_region_new_io(name, SLOT_SIZE, &ops, dev);
  g_object_weak_ref(G_OBJECT(mr), device_free, dev);
  return mr;
}

static gboolean
value_matches(Shared *sh, int slot, guint64 off, guint64 v, gint e1, gint e2)
{
  for (gint e = e1; e <= e2 + 1 && e <= N_OPS; e++) {
    gint id = __atomic_load_n(&sh->history[e * N_SLOTS + slot], __ATOMIC_RELAXED);
    guint64 expected = id < 0 ? 0 : 0x5a000000u | ((guint64)id << 16) | off;
    if (v == expected)
      return TRUE;
  }
  return FALSE;
}

static gpointer
reader_thread(gpointer data)
{
  Shared *sh = data;
  GRand *rand = g_rand_new_with_seed(1234);

  while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
    int slot = g_rand_int_range(rand, 0, N_SLOTS);
    guint64 off = (guint64)g_rand_int_range(rand, 0, SLOT_SIZE / 4) * 4;
    gint e1 = __atomic_load_n(&sh->epoch, __ATOMIC_ACQUIRE);
    guint64 v = 0;
    gint e2;

    arbor_address_space_dispatch_read(sh->as, (guint64)slot * SLOT_SIZE + off, 4, &v);
    e2 = __atomic_load_n(&sh->epoch, __ATOMIC_ACQUIRE);
    if (!value_matches(sh, slot, off, v, e1, e2)) {
      if (__atomic_fetch_add(&sh->errors, 1, __ATOMIC_RELAXED) < 10)
        g_printerr("# slot %d off 0x%" G_GINT64_MODIFIER "x: read 0x%" G_GINT64_MODIFIER "x between changes %d and %d\n",
                   slot, off, v, e1, e2);
    }
    __atomic_fetch_add(&sh->reads, 1, __ATOMIC_RELAXED);
  }
  g_rand_free(rand);
  return NULL;
}

static void
test_threads_dispatch_during_changes(void)
{
  g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("root", ARBOR_MEMORY_SIZE_4G64);
  Shared sh = { 0 };
  ArborMemoryRegion *regions[N_IDS] = { 0 }; /* our refs, NULL when not mapped */
  int slot_of[N_IDS];
  int at_slot[N_SLOTS];
  gboolean enabled[N_IDS];
  GThread *readers[N_READERS];
  GRand *rand = g_rand_new_with_seed(42);

  sh.as = arbor_address_space_new("memory", root, ARBOR_ADDRESS_SPACE_MEMORY);
  sh.history = g_new(gint, (N_OPS + 2) * N_SLOTS);
  for (int s = 0; s < N_SLOTS; s++) {
    at_slot[s] = -1;
    sh.history[s] = -1;
  }
  for (int i = 0; i < N_IDS; i++) {
    slot_of[i] = -1;
    enabled[i] = TRUE;
  }

  for (int t = 0; t < N_READERS; t++)
    readers[t] = g_thread_new("reader", reader_thread, &sh);

  for (gint e = 1; e <= N_OPS; e++) {
    int id = g_rand_int_range(rand, 0, N_IDS);
    int slot = g_rand_int_range(rand, 0, N_SLOTS);
    int next[N_SLOTS];
    gboolean next_enabled[N_IDS];
    ChangeOp op = OP_NONE;

    memcpy(next, at_slot, sizeof(next));
    memcpy(next_enabled, enabled, sizeof(next_enabled));
    if (slot_of[id] < 0) {
      if (at_slot[slot] < 0) {
        op = OP_ADD;
        next[slot] = id;
        next_enabled[id] = TRUE;
      }
    } else {
      int r = g_rand_int_range(rand, 0, 3);
      if (r == 0) {
        op = OP_DEL;
        next[slot_of[id]] = -1;
      } else if (r == 1 && at_slot[slot] < 0) {
        op = OP_MOVE;
        next[slot_of[id]] = -1;
        next[slot] = id;
      } else {
        op = OP_TOGGLE;
        next_enabled[id] = !enabled[id];
      }
    }

    /* Record the state this change leads to before publishing it. */
    for (int s = 0; s < N_SLOTS; s++) {
      int shown = next[s] >= 0 && next_enabled[next[s]] ? next[s] : -1;
      __atomic_store_n(&sh.history[e * N_SLOTS + s], shown, __ATOMIC_RELAXED);
    }

    switch (op) {
    case OP_ADD:
      regions[id] = region_new(&sh, id);
      arbor_memory_region_add_subregion(root, (guint64)slot * SLOT_SIZE, regions[id]);
      slot_of[id] = slot;
      break;
    case OP_DEL:
      arbor_memory_region_del_subregion(root, regions[id]);
      g_clear_object(&regions[id]); /* only views may still hold it */
      slot_of[id] = -1;
      break;
    case OP_MOVE:
      arbor_memory_region_set_address(regions[id], (guint64)slot * SLOT_SIZE);
      slot_of[id] = slot;
      break;
    case OP_TOGGLE:
      arbor_memory_region_set_enabled(regions[id], next_enabled[id]);
      break;
    case OP_NONE:
      break;
    }
    memcpy(at_slot, next, sizeof(next));
    memcpy(enabled, next_enabled, sizeof(next_enabled));
    __atomic_store_n(&sh.epoch, e, __ATOMIC_RELEASE);
    /* Give the readers a chance on small machines. */
    if (e % 64 == 0)
      g_thread_yield();
  }

  __atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
  for (int t = 0; t < N_READERS; t++)
    g_thread_join(readers[t]);

  g_test_message("%" G_GINT64_FORMAT " reads during %d changes", sh.reads, N_OPS);
  g_assert_cmpint(sh.errors, ==, 0);
  g_assert_cmpint(sh.reads, >, 0);

  for (int i = 0; i < N_IDS; i++)
    g_clear_object(&regions[i]);
  g_clear_object(&sh.as);
  g_clear_object(&root);
  arbor_rcu_barrier();
  /* Every device freed once nothing could dispatch to it any more. */
  g_assert_cmpint(__atomic_load_n(&sh.live, __ATOMIC_RELAXED), ==, 0);
  g_free(sh.history);
  g_rand_free(rand);
}

static gpointer
one_dispatch_thread(gpointer data)
{
  guint64 v = 0;

  arbor_address_space_dispatch_read(data, 0, 4, &v);
  return GSIZE_TO_POINTER((gsize)v);
}

static void
test_threads_reader_records(void)
{
  g_autoptr(ArborMemoryRegion) root = arbor_memory_region_new_container("root", 0x10000);
  g_autoptr(ArborAddressSpace) as = arbor_address_space_new("memory", root, ARBOR_ADDRESS_SPACE_MEMORY);
  g_autoptr(ArborMemoryRegion) ram = test_ram_new("ram", 0x1000, 0x5a);
  guint before;

  arbor_memory_region_add_subregion(root, 0, ram);
  /* Registers this thread if it was not yet. */
  test_read(as, 0, 1, ARBOR_MEMTX_OK);
  before = arbor_rcu_count_readers();
  for (int i = 0; i < 20; i++) {
    GThread *t = g_thread_new("short-lived", one_dispatch_thread, as);
    g_assert_cmpuint(GPOINTER_TO_SIZE(g_thread_join(t)), ==, 0x5a5a5a5a);
  }
  /* Each exited thread took its record with it. */
  g_assert_cmpuint(arbor_rcu_count_readers(), ==, before);
  arbor_rcu_synchronize();
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/memory/threads/dispatch-during-changes", test_threads_dispatch_during_changes);
  g_test_add_func("/memory/threads/reader-records", test_threads_reader_records);
  return g_test_run();
}
