/* ThreadSanitizer annotations. GLib and GObject are not instrumented: their
 * futex-based GMutex/GCond and refcount atomics create happens-before edges
 * TSan cannot see. arbor annotates the ones it relies on, so that what a
 * -Db_sanitize=thread build reports is real. No-ops in other builds. */
#pragma once

#include <glib.h>

#if defined(__SANITIZE_THREAD__)
#define ARBOR_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ARBOR_TSAN 1
#endif
#endif

#ifdef ARBOR_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#endif

static inline void
arbor_tsan_acquire(void *addr)
{
#ifdef ARBOR_TSAN
  __tsan_acquire(addr);
#else
  (void)addr;
#endif
}

static inline void
arbor_tsan_release(void *addr)
{
#ifdef ARBOR_TSAN
  __tsan_release(addr);
#else
  (void)addr;
#endif
}
