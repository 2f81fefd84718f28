/* ThreadSanitizer annotations for GLib's locks, preloaded into the
 * threaded tests of a -Db_sanitize=thread build (scripts/test.sh, pass
 * "tsan").
 *
 * GLib 2.74 implements GMutex and GCond on Linux with raw futexes, which
 * TSan cannot see: every access arbor protects with a GMutex would be
 * reported as a race. This shim wraps arbor's calls into GLib's lock
 * functions and tells TSan about the happens-before edges they create
 * (release on unlock, acquire on lock), so reports left are real races in
 * arbor's code. It adds no locking of its own.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <glib.h>

/* The project builds with -fvisibility=hidden: the wrappers must be
 * exported to interpose GLib's functions. */
#define SHIM_EXPORT __attribute__((visibility("default")))

void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

#define REAL(ret, name, ...)                                              \
  static ret (*real_##name)(__VA_ARGS__);                                 \
  if (real_##name == NULL)                                                \
    real_##name = (ret (*)(__VA_ARGS__)) dlsym(RTLD_NEXT, #name)

SHIM_EXPORT void
g_mutex_lock(GMutex *mutex)
{
  REAL(void, g_mutex_lock, GMutex *);
  real_g_mutex_lock(mutex);
  __tsan_acquire(mutex);
}

SHIM_EXPORT gboolean
g_mutex_trylock(GMutex *mutex)
{
  REAL(gboolean, g_mutex_trylock, GMutex *);
  gboolean ok = real_g_mutex_trylock(mutex);
  if (ok)
    __tsan_acquire(mutex);
  return ok;
}

SHIM_EXPORT void
g_mutex_unlock(GMutex *mutex)
{
  REAL(void, g_mutex_unlock, GMutex *);
  __tsan_release(mutex);
  real_g_mutex_unlock(mutex);
}

SHIM_EXPORT void
g_rec_mutex_lock(GRecMutex *mutex)
{
  REAL(void, g_rec_mutex_lock, GRecMutex *);
  real_g_rec_mutex_lock(mutex);
  __tsan_acquire(mutex);
}

SHIM_EXPORT void
g_rec_mutex_unlock(GRecMutex *mutex)
{
  REAL(void, g_rec_mutex_unlock, GRecMutex *);
  __tsan_release(mutex);
  real_g_rec_mutex_unlock(mutex);
}

SHIM_EXPORT void
g_rw_lock_writer_lock(GRWLock *lock)
{
  REAL(void, g_rw_lock_writer_lock, GRWLock *);
  real_g_rw_lock_writer_lock(lock);
  __tsan_acquire(lock);
}

SHIM_EXPORT void
g_rw_lock_writer_unlock(GRWLock *lock)
{
  REAL(void, g_rw_lock_writer_unlock, GRWLock *);
  __tsan_release(lock);
  real_g_rw_lock_writer_unlock(lock);
}

SHIM_EXPORT void
g_rw_lock_reader_lock(GRWLock *lock)
{
  REAL(void, g_rw_lock_reader_lock, GRWLock *);
  real_g_rw_lock_reader_lock(lock);
  __tsan_acquire(lock);
}

SHIM_EXPORT void
g_rw_lock_reader_unlock(GRWLock *lock)
{
  REAL(void, g_rw_lock_reader_unlock, GRWLock *);
  __tsan_release(lock);
  real_g_rw_lock_reader_unlock(lock);
}

SHIM_EXPORT void
g_cond_wait(GCond *cond, GMutex *mutex)
{
  REAL(void, g_cond_wait, GCond *, GMutex *);
  __tsan_release(mutex);
  real_g_cond_wait(cond, mutex);
  __tsan_acquire(mutex);
}

SHIM_EXPORT gboolean
g_cond_wait_until(GCond *cond, GMutex *mutex, gint64 end_time)
{
  REAL(gboolean, g_cond_wait_until, GCond *, GMutex *, gint64);
  __tsan_release(mutex);
  gboolean ok = real_g_cond_wait_until(cond, mutex, end_time);
  __tsan_acquire(mutex);
  return ok;
}

SHIM_EXPORT gboolean
(g_once_init_enter)(volatile void *location)
{
  REAL(gboolean, g_once_init_enter, volatile void *);
  gboolean first = real_g_once_init_enter(location);
  if (!first)
    __tsan_acquire((void *) location);
  return first;
}

SHIM_EXPORT void
(g_once_init_leave)(volatile void *location, gsize result)
{
  REAL(void, g_once_init_leave, volatile void *, gsize);
  __tsan_release((void *) location);
  real_g_once_init_leave(location, result);
}
