/* The arbor command line: a table of QEMU-spelled options (one or two
 * leading dashes, the argument in the next word), each with its handler. */
#include "arbor-config.h"

#include "cmdline-private.h"

#include <errno.h>
#include <string.h>

typedef gboolean (*OptionHandler)(ArborCmdline *cl, const char *name, const char *arg, GError **error);

typedef struct {
  const char *name; /* without the dash */
  gboolean has_arg;
  OptionHandler handler;
  const char *arg_help; /* NULL: no argument */
  const char *help;
} OptionDef;

/* The machine names arbor answers to: all are its one x86 machine. */
static const char *const machine_names[] = { "pc", "microvm", "arbor", NULL };

/* -d categories and the log domain each one enables. */
static const struct {
  const char *item;
  const char *domain;
  const char *help;
} log_items[] = {
  { "kvm", "arbor-kvm", "the KVM accelerator: every exit" },
  { "qtest", "arbor-qtest", "the qtest accelerator and protocol server" },
  { "accel", "arbor-accel", "accelerator modules" },
  { "vcpu", "arbor-vcpu", "vCPU threads and commands" },
  { "memory", "arbor-memory", "memory regions, flat views, dispatch" },
  { "machine", "arbor-machine", "the machine: devices, reset, shutdown" },
  { "irq", "arbor-irq", "interrupt lines" },
  { "clock", "arbor-clock", "clock and timers" },
  { "device", "arbor-device", "the device registry" },
  { "chardev", "arbor-chardev", "character backends" },
  { "serial", "arbor-serial", "the 16550 UARTs" },
  { "debug-exit", "arbor-debug-exit", "isa-debug-exit" },
  { "i8042", "arbor-i8042", "the keyboard controller and port 0x92" },
  { "hw", "arbor-hw", "legacy port stubs (what the guest probes)" },
  { "loader", "arbor-loader", "the kernel loaders" },
  { "monitor", "arbor-monitor", "the human monitor" },
  { "main", "arbor", "the emulator itself" },
  { "guest_errors", "arbor-hw", "(QEMU's name) same as hw" },
  { "unimp", "arbor-hw", "(QEMU's name) same as hw" },
};

void
arbor_cmdline_free(ArborCmdline *cl)
{
  if (!cl)
    return;
  g_free(cl->accel);
  g_free(cl->machine_type);
  g_free(cl->kernel);
  g_free(cl->append);
  g_free(cl->initrd);
  g_ptr_array_unref(cl->serials);
  g_ptr_array_unref(cl->devices);
  g_ptr_array_unref(cl->loaders);
  g_free(cl->monitor);
  g_free(cl->qtest);
  g_free(cl->qtest_log);
  g_free(cl->log_items);
  g_free(cl->log_file);
  g_free(cl);
}

static void
loader_free(gpointer p)
{
  ArborCmdlineLoader *l = p;

  g_free(l->file);
  g_free(l);
}

static gboolean
fail(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean
fail(GError **error, const char *format, ...)
{
  va_list ap;

  va_start(ap, format);
  g_autofree char *message = g_strdup_vprintf(format, ap);
  va_end(ap);
  g_set_error_literal(error, ARBOR_ERROR, ARBOR_ERROR_INVALID, message);
  return FALSE;
}

gboolean
arbor_cmdline_parse_uint(const char *text, guint64 *value)
{
  char *end = NULL;

  if (!text || !g_ascii_isdigit(*text))
    return FALSE;
  errno = 0;
  guint64 v = g_ascii_strtoull(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0')
    return FALSE;
  *value = v;
  return TRUE;
}

gboolean
arbor_cmdline_parse_size(const char *text, gboolean default_mib, guint64 *bytes, GError **error)
{
  char *end = NULL;

  if (!text || !g_ascii_isdigit(*text))
    return fail(error, "invalid size '%s': expected a number with an optional K, M, G or T suffix", text ? text : "");
  errno = 0;
  guint64 v = g_ascii_strtoull(text, &end, 10);
  if (errno != 0)
    return fail(error, "invalid size '%s': too large", text);

  guint shift = default_mib ? 20 : 0;
  if (*end != '\0') {
    switch (g_ascii_toupper(*end)) {
    case 'B': shift = 0; break;
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default:
      return fail(error, "invalid size '%s': unknown suffix '%s' (use K, M, G or T)", text, end);
    }
    end++;
    /* "64MB", "1GiB"-less QEMU spellings: a trailing B after a unit. */
    if (shift && (*end == 'B' || *end == 'b'))
      end++;
    if (*end != '\0')
      return fail(error, "invalid size '%s': trailing characters '%s'", text, end);
  }
  if (shift && v > (G_MAXUINT64 >> shift))
    return fail(error, "invalid size '%s': too large", text);
  *bytes = v << shift;
  return TRUE;
}

/* Splits "a,b=c,,d" into items on single commas; ",," is a literal comma. */
static GPtrArray *
split_options(const char *text)
{
  GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
  GString *cur = g_string_new(NULL);

  for (const char *p = text;; p++) {
    if (*p == ',' && p[1] == ',') {
      g_string_append_c(cur, ',');
      p++;
      continue;
    }
    if (*p == ',' || *p == '\0') {
      g_ptr_array_add(items, g_string_free(cur, FALSE));
      if (*p == '\0')
        break;
      cur = g_string_new(NULL);
      continue;
    }
    g_string_append_c(cur, *p);
  }
  return items;
}

static gboolean
set_once(char **slot, const char *name, const char *value, GError **error)
{
  if (*slot)
    return fail(error, "-%s given more than once", name);
  *slot = g_strdup(value);
  return TRUE;
}

static gboolean
check_chardev_spec(const char *name, const char *spec, gboolean allow_none, GError **error)
{
  static const char *const prefixes[] = { "file:", "unix:", NULL };

  if (g_str_equal(spec, "stdio") || g_str_equal(spec, "null") || (allow_none && g_str_equal(spec, "none")))
    return TRUE;
  for (guint i = 0; prefixes[i]; i++) {
    if (g_str_has_prefix(spec, prefixes[i]) && spec[strlen(prefixes[i])] != '\0')
      return TRUE;
  }
  return fail(error, "-%s '%s': unsupported backend (use stdio, null, file:PATH or unix:PATH[,server=on,wait=off]%s)",
              name, spec, allow_none ? " or none" : "");
}

static gboolean
set_accel_name(ArborCmdline *cl, const char *value, GError **error)
{
  if (*value == '\0')
    return fail(error, "-accel needs an accelerator name");
  if (cl->accel && !g_str_equal(cl->accel, value))
    return fail(error, "conflicting accelerators '%s' and '%s' (arbor takes one)", cl->accel, value);
  g_free(cl->accel);
  cl->accel = g_strdup(value);
  return TRUE;
}

static gboolean
opt_accel(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  g_autoptr(GPtrArray) items = split_options(arg);
  const char *accel = items->pdata[0];

  if (g_str_equal(accel, "help")) {
    cl->action = ARBOR_CMDLINE_ACCEL_HELP;
    return TRUE;
  }
  if (items->len > 1)
    return fail(error, "-accel: unknown property '%s' (arbor's accelerators take none)", (char *)items->pdata[1]);
  return set_accel_name(cl, accel, error);
}

static gboolean
opt_enable_kvm(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  return set_accel_name(cl, "kvm", error);
}

static gboolean
set_machine_type(ArborCmdline *cl, const char *type, GError **error)
{
  if (g_str_equal(type, "help")) {
    cl->action = ARBOR_CMDLINE_MACHINE_HELP;
    return TRUE;
  }
  if (!g_strv_contains(machine_names, type))
    return fail(error, "unsupported machine type '%s' (use -M help)", type);
  g_free(cl->machine_type);
  cl->machine_type = g_strdup(type);
  return TRUE;
}

static gboolean
opt_machine(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  g_autoptr(GPtrArray) items = split_options(arg);

  for (guint i = 0; i < items->len; i++) {
    const char *item = items->pdata[i];
    const char *eq = strchr(item, '=');
    if (!eq) {
      if (i != 0)
        return fail(error, "-machine '%s': '%s' is not KEY=VALUE", arg, item);
      if (*item && !set_machine_type(cl, item, error))
        return FALSE;
      continue;
    }
    g_autofree char *key = g_strndup(item, eq - item);
    const char *value = eq + 1;
    if (g_str_equal(key, "type")) {
      if (!set_machine_type(cl, value, error))
        return FALSE;
    } else if (g_str_equal(key, "accel")) {
      if (g_str_equal(value, "help")) {
        cl->action = ARBOR_CMDLINE_ACCEL_HELP;
        continue;
      }
      if (!set_accel_name(cl, value, error))
        return FALSE;
    } else {
      return fail(error, "-machine: unknown property '%s' (arbor knows type= and accel=)", key);
    }
  }
  return TRUE;
}

static gboolean
opt_memory(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  g_autoptr(GPtrArray) items = split_options(arg);
  g_autoptr(GError) local = NULL;
  const char *size = NULL;

  for (guint i = 0; i < items->len; i++) {
    const char *item = items->pdata[i];
    if (g_str_has_prefix(item, "size="))
      size = item + 5;
    else if (i == 0 && !strchr(item, '='))
      size = item;
    else
      return fail(error, "-m '%s': unknown property '%s' (arbor knows size=)", arg, item);
  }
  if (!size || !arbor_cmdline_parse_size(size, TRUE, &cl->ram_size, &local))
    return fail(error, "-m: %s", local ? local->message : "missing size");
  if (cl->ram_size < (1u << 20))
    return fail(error, "-m %s: at least 1 MiB of RAM is needed", arg);
  if (cl->ram_size % 4096)
    return fail(error, "-m %s: the RAM size must be a multiple of 4 KiB", arg);
  return TRUE;
}

static gboolean
opt_smp(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  g_autoptr(GPtrArray) items = split_options(arg);
  guint64 n = 0;
  gboolean have = FALSE;

  for (guint i = 0; i < items->len; i++) {
    const char *item = items->pdata[i];
    const char *value = NULL;
    if (g_str_has_prefix(item, "cpus="))
      value = item + 5;
    else if (i == 0 && !strchr(item, '='))
      value = item;
    else
      return fail(error, "-smp '%s': unknown property '%s' (arbor knows cpus=)", arg, item);
    if (!arbor_cmdline_parse_uint(value, &n))
      return fail(error, "-smp '%s': '%s' is not a number", arg, value);
    have = TRUE;
  }
  if (!have || n < 1 || n > 255)
    return fail(error, "-smp %s: the number of vCPUs must be 1 to 255", arg);
  cl->smp = (guint)n;
  return TRUE;
}

static gboolean
opt_kernel(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  if (*arg == '\0')
    return fail(error, "-kernel needs a file name");
  return set_once(&cl->kernel, name, arg, error);
}

static gboolean
opt_append(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  return set_once(&cl->append, name, arg, error);
}

static gboolean
opt_initrd(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  if (*arg == '\0')
    return fail(error, "-initrd needs a file name");
  return set_once(&cl->initrd, name, arg, error);
}

static gboolean
opt_serial(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  if (cl->serials->len >= ARBOR_MAX_SERIAL)
    return fail(error, "-serial: at most %d serial ports (COM1..COM4)", ARBOR_MAX_SERIAL);
  if (!check_chardev_spec(name, arg, TRUE, error))
    return FALSE;
  g_ptr_array_add(cl->serials, g_strdup(arg));
  return TRUE;
}

static gboolean
opt_loader_device(ArborCmdline *cl, GPtrArray *items, const char *arg, GError **error)
{
  ArborCmdlineLoader *l = g_new0(ArborCmdlineLoader, 1);
  gboolean have_addr = FALSE;

  g_ptr_array_add(cl->loaders, l);
  for (guint i = 1; i < items->len; i++) {
    const char *item = items->pdata[i];
    const char *eq = strchr(item, '=');
    if (!eq)
      return fail(error, "-device '%s': '%s' is not KEY=VALUE", arg, item);
    g_autofree char *key = g_strndup(item, eq - item);
    const char *value = eq + 1;
    guint64 n;
    if (g_str_equal(key, "file")) {
      if (*value == '\0')
        return fail(error, "-device loader: file= needs a file name");
      g_free(l->file);
      l->file = g_strdup(value);
    } else if (g_str_equal(key, "addr")) {
      if (!arbor_cmdline_parse_uint(value, &l->addr))
        return fail(error, "-device loader: addr '%s' is not a number", value);
      have_addr = TRUE;
    } else if (g_str_equal(key, "cpu-num")) {
      if (!arbor_cmdline_parse_uint(value, &n) || n != 0)
        return fail(error, "-device loader: cpu-num '%s': only vCPU 0 can be started", value);
      l->set_entry = TRUE;
    } else if (g_str_equal(key, "mode")) {
      if (g_str_equal(value, "protected") || g_str_equal(value, "32"))
        l->mode = ARBOR_LOADER_MODE_PROTECTED;
      else if (g_str_equal(value, "real") || g_str_equal(value, "16"))
        l->mode = ARBOR_LOADER_MODE_REAL;
      else if (g_str_equal(value, "long") || g_str_equal(value, "64"))
        l->mode = ARBOR_LOADER_MODE_LONG;
      else
        return fail(error, "-device loader: mode '%s' (use real, protected or long)", value);
    } else if (g_str_equal(key, "force-raw")) {
      /* arbor's generic loader is always raw. */
    } else {
      return fail(error, "-device loader: unknown property '%s' (file, addr, cpu-num, mode)", key);
    }
  }
  if (!l->file)
    return fail(error, "-device loader needs file=");
  if (!have_addr)
    return fail(error, "-device loader needs addr= (arbor loads raw files)");
  return TRUE;
}

static gboolean
opt_device(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  g_autoptr(GPtrArray) items = split_options(arg);
  const char *driver = items->pdata[0];

  if (*driver == '\0')
    return fail(error, "-device needs a device name (use -device help)");
  if (g_str_equal(driver, "help") || g_str_equal(driver, "?")) {
    cl->action = ARBOR_CMDLINE_DEVICE_HELP;
    return TRUE;
  }
  if (g_str_equal(driver, "loader"))
    return opt_loader_device(cl, items, arg, error);
  g_ptr_array_add(cl->devices, g_strdup(arg));
  return TRUE;
}

static gboolean
opt_display(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  if (!g_str_equal(arg, "none"))
    return fail(error, "-display %s: arbor has no display; use -display none", arg);
  return TRUE;
}

static gboolean
opt_flag(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  if (g_str_equal(name, "nodefaults"))
    cl->nodefaults = TRUE;
  else if (g_str_equal(name, "nographic"))
    cl->nographic = TRUE;
  else if (g_str_equal(name, "no-reboot"))
    cl->no_reboot = TRUE;
  else if (g_str_equal(name, "S"))
    cl->start_paused = TRUE;
  return TRUE;
}

static gboolean
opt_monitor(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  if (!check_chardev_spec(name, arg, TRUE, error))
    return FALSE;
  return set_once(&cl->monitor, name, arg, error);
}

static gboolean
opt_qtest(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  if (!check_chardev_spec(name, arg, FALSE, error))
    return FALSE;
  return set_once(&cl->qtest, name, arg, error);
}

static gboolean
opt_qtest_log(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  if (*arg == '\0')
    return fail(error, "-qtest-log needs a file name");
  return set_once(&cl->qtest_log, name, arg, error);
}

static gboolean
opt_log_items(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  if (g_str_equal(arg, "help")) {
    cl->action = ARBOR_CMDLINE_LOG_HELP;
    return TRUE;
  }
  g_auto(GStrv) domains = arbor_cmdline_log_domains(arg, error);
  if (!domains)
    return FALSE;
  return set_once(&cl->log_items, name, arg, error);
}

static gboolean
opt_log_file(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  if (*arg == '\0')
    return fail(error, "-D needs a file name");
  return set_once(&cl->log_file, name, arg, error);
}

static gboolean
opt_ignored(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  return TRUE;
}

static gboolean
opt_action(ArborCmdline *cl, const char *name, const char *arg, GError **error)
{
  if (g_str_equal(name, "version"))
    cl->action = ARBOR_CMDLINE_VERSION;
  else
    cl->action = ARBOR_CMDLINE_HELP;
  return TRUE;
}

static const OptionDef options[] = {
  { "accel", TRUE, opt_accel, "kvm|qtest", "accelerator (default kvm; qtest with -qtest)" },
  { "enable-kvm", FALSE, opt_enable_kvm, NULL, "same as -accel kvm" },
  { "machine", TRUE, opt_machine, "TYPE[,accel=NAME]", "machine type: pc, microvm, arbor (all arbor's x86 machine); help lists" },
  { "M", TRUE, opt_machine, "TYPE[,accel=NAME]", "same as -machine" },
  { "m", TRUE, opt_memory, "SIZE", "RAM size; K/M/G/T suffixes, no suffix = MiB (default 128M)" },
  { "smp", TRUE, opt_smp, "N", "number of vCPUs (1..255, default 1)" },
  { "kernel", TRUE, opt_kernel, "FILE", "Multiboot (ELF32 or a.out kludge) or ELF64 kernel" },
  { "append", TRUE, opt_append, "CMDLINE", "kernel command line (Multiboot: \"FILE CMDLINE\")" },
  { "initrd", TRUE, opt_initrd, "FILE[ ARGS][,FILE...]", "Multiboot modules (\",,\" for a comma)" },
  { "serial", TRUE, opt_serial, "BACKEND", "next COM port: stdio|null|none|file:PATH|unix:PATH[,server=on,wait=off]" },
  { "device", TRUE, opt_device, "NAME[,PROP=VALUE...]", "add a device (help lists); also loader,file=F,addr=A[,cpu-num=0][,mode=real|protected|long]" },
  { "nodefaults", FALSE, opt_flag, NULL, "no default serial port or monitor" },
  { "display", TRUE, opt_display, "none", "arbor has no display: only none is accepted" },
  { "nographic", FALSE, opt_flag, NULL, "COM1 on stdio unless -serial says otherwise (no monitor mux)" },
  { "no-reboot", FALSE, opt_flag, NULL, "exit (code 0) instead of resetting" },
  { "S", FALSE, opt_flag, NULL, "start with the vCPUs paused (monitor 'cont' runs them)" },
  { "monitor", TRUE, opt_monitor, "BACKEND", "human monitor on stdio|unix:PATH,server=on,wait=off|none" },
  { "qtest", TRUE, opt_qtest, "BACKEND", "serve the qtest protocol there (implies -accel qtest)" },
  { "qtest-log", TRUE, opt_qtest_log, "FILE", "log the qtest protocol to FILE (none: off)" },
  { "d", TRUE, opt_log_items, "ITEM[,ITEM...]", "enable debug logs (-d help lists)" },
  { "D", TRUE, opt_log_file, "FILE", "write the log to FILE instead of stderr" },
  { "name", TRUE, opt_ignored, "NAME", "accepted and ignored" },
  { "version", FALSE, opt_action, NULL, "print the version and exit" },
  { "help", FALSE, opt_action, NULL, "print this help and exit" },
  { "h", FALSE, opt_action, NULL, "same as -help" },
};

char **
arbor_cmdline_log_domains(const char *items, GError **error)
{
  g_autoptr(GPtrArray) list = split_options(items);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

  for (guint i = 0; i < list->len; i++) {
    const char *item = list->pdata[i];
    gboolean found = FALSE;
    if (g_str_equal(item, "all")) {
      g_ptr_array_add(out, g_strdup("all"));
      continue;
    }
    for (guint j = 0; j < G_N_ELEMENTS(log_items); j++) {
      if (g_str_equal(item, log_items[j].item)) {
        g_ptr_array_add(out, g_strdup(log_items[j].domain));
        found = TRUE;
      }
    }
    if (!found) {
      fail(error, "-d: unknown log item '%s' (use -d help)", item);
      return NULL;
    }
  }
  g_ptr_array_add(out, NULL);
  return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

ArborCmdline *
arbor_cmdline_parse(int argc, char **argv, GError **error)
{
  g_autoptr(ArborCmdline) cl = g_new0(ArborCmdline, 1);

  cl->ram_size = 128ULL << 20;
  cl->smp = 1;
  cl->machine_type = g_strdup("pc");
  cl->serials = g_ptr_array_new_with_free_func(g_free);
  cl->devices = g_ptr_array_new_with_free_func(g_free);
  cl->loaders = g_ptr_array_new_with_free_func(loader_free);

  for (int i = 1; i < argc; i++) {
    const char *word = argv[i];
    if (word[0] != '-' || word[1] == '\0') {
      fail(error, "'%s': not an option (arbor takes no disk image; use -kernel FILE)", word);
      return NULL;
    }
    const char *name = word + 1;
    if (name[0] == '-')
      name++;
    const OptionDef *def = NULL;
    for (guint j = 0; j < G_N_ELEMENTS(options); j++) {
      if (g_str_equal(options[j].name, name)) {
        def = &options[j];
        break;
      }
    }
    if (!def) {
      fail(error, "unknown option '%s' (try --help)", word);
      return NULL;
    }
    const char *arg = NULL;
    if (def->has_arg) {
      if (i + 1 >= argc) {
        fail(error, "option '%s' needs an argument (%s)", word, def->arg_help);
        return NULL;
      }
      arg = argv[++i];
    }
    if (!def->handler(cl, def->name, arg, error))
      return NULL;
    /* help and version win over everything after them, as in QEMU. */
    if (cl->action != ARBOR_CMDLINE_RUN)
      return g_steal_pointer(&cl);
  }

  if (cl->initrd && !cl->kernel) {
    fail(error, "-initrd needs -kernel");
    return NULL;
  }
  if (cl->append && !cl->kernel) {
    fail(error, "-append needs -kernel");
    return NULL;
  }

  /* One stdio user: arbor has no mux (QEMU's mon:stdio). */
  guint stdio_users = 0;
  for (guint i = 0; i < cl->serials->len; i++)
    stdio_users += g_str_equal(cl->serials->pdata[i], "stdio");
  if (cl->nographic && cl->serials->len == 0)
    stdio_users++;
  stdio_users += cl->monitor && g_str_equal(cl->monitor, "stdio");
  stdio_users += cl->qtest && g_str_equal(cl->qtest, "stdio");
  if (stdio_users > 1) {
    fail(error, "stdio is used by more than one of -serial, -monitor, -qtest, -nographic (arbor has no mux)");
    return NULL;
  }
  return g_steal_pointer(&cl);
}

char *
arbor_cmdline_help_text(void)
{
  GString *s = g_string_new(NULL);

  g_string_append_printf(s, "arbor %s: a small x86 emulator on KVM\n"
                            "usage: arbor [options]\n\n", arbor_version_string());
  for (guint i = 0; i < G_N_ELEMENTS(options); i++) {
    g_autofree char *left = g_strdup_printf("-%s%s%s", options[i].name, options[i].arg_help ? " " : "",
                                            options[i].arg_help ? options[i].arg_help : "");
    g_string_append_printf(s, "  %-32s %s\n", left, options[i].help);
  }
  g_string_append(s, "\nDefaults: -accel kvm, -m 128M, -smp 1, COM1 on null (give -serial stdio to see it),\n"
                     "no monitor. Options take one or two dashes.\n\n"
                     "Exit codes:\n"
                     "  0            the guest shut down, 'quit', a signal, or a reset (or triple fault)\n"
                     "               under -no-reboot\n"
                     "  1            bad command line, image, backend or accelerator (message on stderr)\n"
                     "  2            the guest crashed: a triple fault without -no-reboot, an internal\n"
                     "               error, entry failure or unknown exit (reason and registers on stderr)\n"
                     "  3            a vCPU thread failed on the host side\n"
                     "  (V<<1)|1     the guest wrote V to isa-debug-exit\n");
  return g_string_free(s, FALSE);
}

char *
arbor_cmdline_log_help_text(void)
{
  GString *s = g_string_new("Log items (-d ITEM[,ITEM...]; also G_MESSAGES_DEBUG=DOMAIN):\n");

  for (guint i = 0; i < G_N_ELEMENTS(log_items); i++)
    g_string_append_printf(s, "%-13s %-18s %s\n", log_items[i].item, log_items[i].domain, log_items[i].help);
  g_string_append_printf(s, "%-13s %-18s %s\n", "all", "(every domain)", "everything");
  return g_string_free(s, FALSE);
}

char *
arbor_cmdline_machine_help_text(void)
{
  return g_strdup("Supported machines are:\n"
                  "pc                   arbor's x86 machine (default)\n"
                  "microvm              arbor's x86 machine (alias)\n"
                  "arbor                arbor's x86 machine (alias)\n"
                  "All three are the same machine: RAM from 0 with the legacy hole, COM1, i8042,\n"
                  "port 0x92 and legacy port stubs; no PCI, no firmware (use -kernel).\n");
}
