/* The emulator's command line (QEMU's spellings), parsed by a table, and
 * the emulator run on top of it. Private to the arbor binary and its tests. */
#pragma once

#include <arbor/arbor-types.h>
#include <arbor/loader.h>

G_BEGIN_DECLS

/* Exit codes of the arbor binary (also listed by --help). isa-debug-exit
 * adds (V << 1) | 1 for a guest write of V. */
#define ARBOR_EXIT_OK 0
#define ARBOR_EXIT_USAGE 1       /* bad option, image, backend, accelerator */
#define ARBOR_EXIT_GUEST_CRASH 2 /* a vCPU stopped on an internal error, entry failure, unknown exit */
#define ARBOR_EXIT_VCPU_ERROR 3  /* a vCPU thread failed on the host side */

#define ARBOR_MAX_SERIAL 4

typedef enum {
  ARBOR_CMDLINE_RUN,
  ARBOR_CMDLINE_HELP,
  ARBOR_CMDLINE_VERSION,
  ARBOR_CMDLINE_MACHINE_HELP,
  ARBOR_CMDLINE_DEVICE_HELP,
  ARBOR_CMDLINE_LOG_HELP,
  ARBOR_CMDLINE_ACCEL_HELP,
} ArborCmdlineAction;

/* One -device loader,file=F,addr=A[,cpu-num=N][,mode=M]. */
typedef struct {
  char *file; /* owned */
  guint64 addr;
  gboolean set_entry; /* cpu-num given */
  ArborLoaderMode mode;
} ArborCmdlineLoader;

typedef struct {
  ArborCmdlineAction action;
  char *accel;        /* NULL: kvm, or qtest when -qtest is given */
  char *machine_type; /* "pc", "microvm", "arbor" */
  guint64 ram_size;   /* bytes */
  guint smp;
  char *kernel;
  char *append;
  char *initrd;
  GPtrArray *serials; /* char* chardev specs in COM order ("none" keeps the port absent) */
  GPtrArray *devices; /* char* -device option strings, in order */
  GPtrArray *loaders; /* ArborCmdlineLoader* */
  char *monitor;      /* chardev spec or NULL */
  char *qtest;        /* chardev spec or NULL */
  char *qtest_log;
  char *log_items;    /* -d */
  char *log_file;     /* -D */
  gboolean nodefaults;
  gboolean nographic;
  gboolean no_reboot;
  gboolean start_paused; /* -S */
} ArborCmdline;

ARBOR_API void arbor_cmdline_free(ArborCmdline *cmdline);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArborCmdline, arbor_cmdline_free)

/* argv[0] is the program name. Errors are ARBOR_ERROR_INVALID with a
 * message meant to follow "arbor: ". */
ARBOR_API ArborCmdline *arbor_cmdline_parse(int argc, char **argv, GError **error);

/* -m: "64" (MiB), "64M", "1G", "512K", "size=64M"... */
ARBOR_API gboolean arbor_cmdline_parse_size(const char *text, gboolean default_mib, guint64 *bytes, GError **error);
/* strtoull(,0)-style unsigned number, the whole string. */
ARBOR_API gboolean arbor_cmdline_parse_uint(const char *text, guint64 *value);

ARBOR_API char *arbor_cmdline_help_text(void);
ARBOR_API char *arbor_cmdline_log_help_text(void);
ARBOR_API char *arbor_cmdline_machine_help_text(void);
/* -d CATEGORIES -> GLib log domains ("kvm" -> "arbor-kvm"; "all"). */
ARBOR_API char **arbor_cmdline_log_domains(const char *items, GError **error);

/* Runs the emulator described by @cmdline; returns the process exit code. */
ARBOR_API int arbor_emulator_run(ArborCmdline *cmdline);

G_END_DECLS
