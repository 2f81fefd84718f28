/* A small read-copy-update for the memory API's flat views.
 *
 * Readers (vCPU threads, the main thread) bracket their use of a published
 * pointer with arbor_rcu_read_lock/unlock: a per-thread nesting counter and
 * a snapshot of the grace-period counter in a per-thread record. No shared
 * cache line is written on the read side, so dispatch scales with vCPUs.
 *
 * The writer publishes a new pointer with an atomic store and hands the old
 * one to arbor_rcu_call(). A reclaim thread waits for a grace period (every
 * reader record is quiescent or started after the counter bump) by
 * sleeping on a GCond with a short, growing timeout -- never spinning --
 * then runs the callbacks.
 *
 * Ordering: the reader's store of its snapshot must be visible before it
 * loads the published pointer (store->load). Where the kernel offers
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) the writer issues it and
 * readers only need a compiler barrier; otherwise readers use a full fence.
 */
#include "memory-private.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline void
arbor_rcu_lock(GMutex *m)
{
  g_mutex_lock(m);
  arbor_tsan_acquire(m);
}

static inline void
arbor_rcu_unlock(GMutex *m)
{
  arbor_tsan_release(m);
  g_mutex_unlock(m);
}

static inline void
arbor_rcu_cond_wait(GCond *c, GMutex *m)
{
  arbor_tsan_release(m);
  g_cond_wait(c, m);
  arbor_tsan_acquire(m);
}

static inline void
arbor_rcu_cond_sleep(GCond *c, GMutex *m, gint64 end_time)
{
  arbor_tsan_release(m);
  g_cond_wait_until(c, m, end_time);
  arbor_tsan_acquire(m);
}

__thread ArborRcuReader *arbor_rcu_reader_tls __attribute__((tls_model("initial-exec")));

typedef struct {
  GDestroyNotify func;
  gpointer data;
} ArborRcuCallback;

typedef struct {
  /* Reader records and grace periods. */
  GMutex lock;
  GCond sleep_cond;        /* only used for timed sleeps */
  GPtrArray *readers;      /* ArborRcuReader*, owned */
  guint64 gp;              /* atomic; starts at 1, 0 means quiescent */
  guint next_shard;        /* round-robin counter shard for new readers */
  gboolean use_membarrier;

  /* Deferred callbacks. */
  GMutex cb_lock;
  GCond work_cond;         /* signalled when a callback is queued */
  GCond done_cond;         /* broadcast when a batch has run */
  GArray *pending;         /* ArborRcuCallback */
  guint64 queued;          /* callbacks ever queued */
  guint64 done;            /* callbacks ever run */
  GThread *thread;         /* the reclaim thread, started lazily */
} ArborRcuRegistry;

static void arbor_rcu_unregister_thread(gpointer data);
static GPrivate arbor_rcu_reader_key = G_PRIVATE_INIT(arbor_rcu_unregister_thread);

static long
arbor_membarrier(int cmd)
{
  return syscall(__NR_membarrier, cmd, 0, 0);
}

static ArborRcuRegistry *
arbor_rcu_registry_new(void)
{
  ArborRcuRegistry *r = g_new0(ArborRcuRegistry, 1);
  long cmds;

  g_mutex_init(&r->lock);
  g_cond_init(&r->sleep_cond);
  r->readers = g_ptr_array_new();
  r->gp = 1;
  g_mutex_init(&r->cb_lock);
  g_cond_init(&r->work_cond);
  g_cond_init(&r->done_cond);
  r->pending = g_array_new(FALSE, FALSE, sizeof(ArborRcuCallback));

  cmds = arbor_membarrier(MEMBARRIER_CMD_QUERY);
  if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
      arbor_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
    r->use_membarrier = TRUE;
#ifdef ARBOR_TSAN
  /* ThreadSanitizer does not model membarrier(2): use fences there. */
  r->use_membarrier = FALSE;
#endif
  return r;
}

/* The process-wide registry, created on first use. Published with a
 * compare-and-swap rather than GOnce so that ThreadSanitizer sees it. */
static ArborRcuRegistry *
arbor_rcu_registry(void)
{
  static ArborRcuRegistry *registry;
  ArborRcuRegistry *r = __atomic_load_n(&registry, __ATOMIC_ACQUIRE);
  ArborRcuRegistry *expected = NULL;

  if (G_LIKELY(r != NULL))
    return r;
  r = arbor_rcu_registry_new();
  if (!__atomic_compare_exchange_n(&registry, &expected, r, FALSE, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    /* Another thread won; ours was never shared. */
    g_ptr_array_unref(r->readers);
    g_array_unref(r->pending);
    g_mutex_clear(&r->lock);
    g_mutex_clear(&r->cb_lock);
    g_cond_clear(&r->sleep_cond);
    g_cond_clear(&r->work_cond);
    g_cond_clear(&r->done_cond);
    g_free(r);
    return expected;
  }
  g_debug("rcu: readers use %s", r->use_membarrier ? "compiler barriers (membarrier)" : "full fences");
  return r;
}

ArborRcuReader *
arbor_rcu_register_thread(void)
{
  ArborRcuRegistry *reg = arbor_rcu_registry();
  ArborRcuReader *r = g_aligned_alloc0(1, ARBOR_RCU_READER_ALLOC, ARBOR_RCU_READER_ALLOC);

  r->gp = &reg->gp;
  r->reader_fence = !reg->use_membarrier;
  arbor_rcu_lock(&reg->lock);
  r->shard = reg->next_shard++ % ARBOR_FLAT_VIEW_COUNT_SHARDS;
  g_ptr_array_add(reg->readers, r);
  arbor_rcu_unlock(&reg->lock);
  arbor_rcu_reader_tls = r;
  g_private_set(&arbor_rcu_reader_key, r);
  return r;
}

/* GPrivate destructor: the thread exits, forget its record. */
static void
arbor_rcu_unregister_thread(gpointer data)
{
  ArborRcuRegistry *reg = arbor_rcu_registry();
  ArborRcuReader *r = data;

  arbor_rcu_lock(&reg->lock);
  g_ptr_array_remove_fast(reg->readers, r);
  arbor_rcu_unlock(&reg->lock);
  arbor_rcu_reader_tls = NULL;
  g_aligned_free(r);
}

guint
arbor_rcu_count_readers(void)
{
  ArborRcuRegistry *reg = arbor_rcu_registry();
  guint n;

  arbor_rcu_lock(&reg->lock);
  n = reg->readers->len;
  arbor_rcu_unlock(&reg->lock);
  return n;
}

gboolean
arbor_rcu_read_locked(void)
{
  return arbor_rcu_reader_tls != NULL && arbor_rcu_reader_tls->nesting > 0;
}

void
arbor_rcu_synchronize(void)
{
  ArborRcuRegistry *reg = arbor_rcu_registry();
  gint64 delay = 20; /* microseconds, doubled up to 1 ms */
  guint64 target;

  g_return_if_fail(!arbor_rcu_read_locked());

  arbor_rcu_lock(&reg->lock);
  target = __atomic_add_fetch(&reg->gp, 1, __ATOMIC_SEQ_CST);
  if (reg->use_membarrier)
    arbor_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
  else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

  for (;;) {
    gboolean busy = FALSE;

    /* Rescanned after every sleep: records may come and go meanwhile. */
    for (guint i = 0; i < reg->readers->len; i++) {
      ArborRcuReader *r = g_ptr_array_index(reg->readers, i);
      guint64 c = __atomic_load_n(&r->ctr, __ATOMIC_ACQUIRE);

      if (c != 0 && c < target) {
        busy = TRUE;
        break;
      }
    }
    if (!busy)
      break;
    /* Sleep, do not spin: read sections are short (one dispatch). */
    arbor_rcu_cond_sleep(&reg->sleep_cond, &reg->lock, g_get_monotonic_time() + delay);
    delay = MIN(delay * 2, 1000);
  }
  arbor_rcu_unlock(&reg->lock);
}

static gpointer
arbor_rcu_thread(gpointer data)
{
  ArborRcuRegistry *reg = data;

  for (;;) {
    g_autoptr(GArray) batch = NULL;

    arbor_rcu_lock(&reg->cb_lock);
    while (reg->pending->len == 0)
      arbor_rcu_cond_wait(&reg->work_cond, &reg->cb_lock);
    batch = g_steal_pointer(&reg->pending);
    reg->pending = g_array_new(FALSE, FALSE, sizeof(ArborRcuCallback));
    arbor_rcu_unlock(&reg->cb_lock);

    arbor_rcu_synchronize();
    for (guint i = 0; i < batch->len; i++) {
      ArborRcuCallback *cb = &g_array_index(batch, ArborRcuCallback, i);
      cb->func(cb->data);
    }

    arbor_rcu_lock(&reg->cb_lock);
    reg->done += batch->len;
    g_cond_broadcast(&reg->done_cond);
    arbor_rcu_unlock(&reg->cb_lock);
  }
  return NULL;
}

void
arbor_rcu_call(GDestroyNotify func, gpointer data)
{
  ArborRcuRegistry *reg = arbor_rcu_registry();
  ArborRcuCallback cb = { func, data };

  g_return_if_fail(func != NULL);

  arbor_rcu_lock(&reg->cb_lock);
  if (reg->thread == NULL)
    reg->thread = g_thread_new("arbor-rcu", arbor_rcu_thread, reg);
  g_array_append_val(reg->pending, cb);
  reg->queued++;
  g_cond_signal(&reg->work_cond);
  arbor_rcu_unlock(&reg->cb_lock);
}

void
arbor_rcu_barrier(void)
{
  ArborRcuRegistry *reg = arbor_rcu_registry();
  guint64 target;

  g_return_if_fail(!arbor_rcu_read_locked());

  arbor_rcu_lock(&reg->cb_lock);
  target = reg->queued;
  while (reg->done < target)
    arbor_rcu_cond_wait(&reg->done_cond, &reg->cb_lock);
  arbor_rcu_unlock(&reg->cb_lock);
}
