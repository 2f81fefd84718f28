/* The arbor emulator: builds the machine the command line describes and
 * runs it on a GMainLoop until the guest or the user ends it. */
#include "arbor-config.h"

#include "cmdline-private.h"

#include <arbor/arbor.h>

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Log writer state: which debug domains show, and where the log goes. */
typedef struct {
  FILE *out;      /* stderr or the -D file (owned then) */
  GPtrArray *domains; /* char*, owned */
  gboolean all;
} LogState;

typedef struct {
  ArborCmdline *cl; /* not owned */
  ArborMachine *machine;
  ArborAccel *accel;
  ArborLoader *loader;
  ArborMonitor *monitor;
  ArborQtestServer *qtest;
  GMainLoop *loop;
  int exit_code;
  gboolean finished;
} Emulator;

static gboolean
log_domain_enabled(LogState *st, const char *domain)
{
  if (st->all)
    return TRUE;
  for (guint i = 0; i < st->domains->len; i++) {
    if (g_strcmp0(st->domains->pdata[i], domain) == 0)
      return TRUE;
  }
  return FALSE;
}

static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  LogState *st = user_data;
  const char *domain = NULL;

  for (gsize i = 0; i < n_fields; i++) {
    if (g_str_equal(fields[i].key, "GLIB_DOMAIN")) {
      domain = fields[i].value;
      break;
    }
  }
  if ((level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) && !log_domain_enabled(st, domain))
    return G_LOG_WRITER_HANDLED;

  g_autofree char *line = g_log_writer_format_fields(level, fields, n_fields, FALSE);
  fprintf(st->out, "%s\n", line);
  fflush(st->out);
  return G_LOG_WRITER_HANDLED;
}

static void
log_state_free(gpointer p)
{
  LogState *st = p;

  if (st->out && st->out != stderr)
    fclose(st->out);
  g_ptr_array_unref(st->domains);
  g_free(st);
}

/* Installs the writer: -d items plus G_MESSAGES_DEBUG, to stderr or -D. */
static gboolean
setup_logging(ArborCmdline *cl, GError **error)
{
  LogState *st = g_new0(LogState, 1);

  st->domains = g_ptr_array_new_with_free_func(g_free);
  st->out = stderr;
  if (cl->log_items) {
    g_auto(GStrv) domains = arbor_cmdline_log_domains(cl->log_items, error);
    if (!domains) {
      log_state_free(st);
      return FALSE;
    }
    for (guint i = 0; domains[i]; i++)
      g_ptr_array_add(st->domains, g_strdup(domains[i]));
  }
  const char *env = g_getenv("G_MESSAGES_DEBUG");
  if (env) {
    g_auto(GStrv) parts = g_strsplit_set(env, ", ", -1);
    for (guint i = 0; parts[i]; i++) {
      if (*parts[i])
        g_ptr_array_add(st->domains, g_strdup(parts[i]));
    }
  }
  for (guint i = 0; i < st->domains->len; i++)
    st->all |= g_str_equal(st->domains->pdata[i], "all");
  if (cl->log_file) {
    st->out = fopen(cl->log_file, "ae");
    if (!st->out) {
      int err = errno;
      g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_IO, "-D %s: %s", cl->log_file, g_strerror(err));
      st->out = NULL;
      log_state_free(st);
      return FALSE;
    }
  }
  g_log_set_writer_func(log_writer, st, log_state_free);
  return TRUE;
}

static void
finish(Emulator *emu, int code)
{
  if (emu->finished)
    return;
  emu->finished = TRUE;
  emu->exit_code = code;
  g_main_loop_quit(emu->loop);
}

static void
on_shutdown_requested(ArborMachine *machine, int code, gpointer user_data)
{
  finish(user_data, code);
}

static void
on_reset_requested(ArborMachine *machine, gpointer user_data)
{
  Emulator *emu = user_data;
  g_autoptr(GError) error = NULL;

  if (emu->cl->no_reboot) {
    finish(emu, ARBOR_EXIT_OK);
    return;
  }
  if (!arbor_machine_reset(machine, &error)) {
    g_printerr("arbor: reset failed: %s\n", error->message);
    finish(emu, ARBOR_EXIT_GUEST_CRASH);
  }
}

static void
print_registers(ArborVcpu *vcpu)
{
  ArborRegs r;
  ArborSregs s;

  if (!arbor_vcpu_get_regs(vcpu, &r, NULL) || !arbor_vcpu_get_sregs(vcpu, &s, NULL))
    return;
  g_printerr("RAX=%016" G_GINT64_MODIFIER "x RBX=%016" G_GINT64_MODIFIER "x RCX=%016" G_GINT64_MODIFIER
             "x RDX=%016" G_GINT64_MODIFIER "x\n", r.rax, r.rbx, r.rcx, r.rdx);
  g_printerr("RSI=%016" G_GINT64_MODIFIER "x RDI=%016" G_GINT64_MODIFIER "x RBP=%016" G_GINT64_MODIFIER
             "x RSP=%016" G_GINT64_MODIFIER "x\n", r.rsi, r.rdi, r.rbp, r.rsp);
  g_printerr("RIP=%016" G_GINT64_MODIFIER "x RFL=%08x CS=%04x CR0=%08x CR3=%016" G_GINT64_MODIFIER
             "x CR4=%08x EFER=%016" G_GINT64_MODIFIER "x\n", r.rip, (guint32)r.rflags, s.cs.selector, (guint32)s.cr0,
             s.cr3, (guint32)s.cr4, s.efer);
}

static void
on_vcpu_state_changed(ArborVcpuManager *mgr, ArborVcpu *vcpu, ArborVcpuEvent event, const char *message, gpointer user_data)
{
  Emulator *emu = user_data;
  ArborVcpuExit exit;

  if (emu->finished)
    return;
  if (event == ARBOR_VCPU_EVENT_ERROR) {
    g_printerr("arbor: vCPU %u failed: %s\n", arbor_vcpu_get_index(vcpu), message ? message : "unknown error");
    finish(emu, ARBOR_EXIT_VCPU_ERROR);
    return;
  }
  if (event != ARBOR_VCPU_EVENT_EXITED)
    return;

  arbor_vcpu_get_exit(vcpu, &exit);
  switch (exit.reason) {
  case ARBOR_VCPU_EXIT_SHUTDOWN:
    /* Triple fault: QEMU resets, or exits 0 under -no-reboot. */
    if (emu->cl->no_reboot) {
      finish(emu, ARBOR_EXIT_OK);
      return;
    }
    g_message("vCPU %u: triple fault, resetting the machine", arbor_vcpu_get_index(vcpu));
    on_reset_requested(emu->machine, emu);
    return;
  case ARBOR_VCPU_EXIT_SYSTEM_EVENT:
    /* KVM_SYSTEM_EVENT_SHUTDOWN 1, _RESET 2, _CRASH 3 */
    if (exit.ndata > 0 && exit.data[0] == 1) {
      finish(emu, ARBOR_EXIT_OK);
      return;
    }
    if (exit.ndata > 0 && exit.data[0] == 2) {
      on_reset_requested(emu->machine, emu);
      return;
    }
    break;
  case ARBOR_VCPU_EXIT_HALT:
    g_info("vCPU %u halted", arbor_vcpu_get_index(vcpu));
    return;
  default:
    break;
  }
  g_printerr("arbor: vCPU %u stopped: %s (reason %s, hardware reason %u, suberror %u)\n", arbor_vcpu_get_index(vcpu),
             exit.description[0] ? exit.description : "guest crashed", arbor_vcpu_exit_reason_name(exit.reason),
             exit.hw_reason, exit.suberror);
  for (guint i = 0; i < MIN(exit.ndata, G_N_ELEMENTS(exit.data)); i++)
    g_printerr("  data[%u]=0x%" G_GINT64_MODIFIER "x\n", i, exit.data[i]);
  print_registers(vcpu);
  finish(emu, ARBOR_EXIT_GUEST_CRASH);
}

static gboolean
on_unix_signal(gpointer user_data)
{
  Emulator *emu = user_data;

  g_printerr("arbor: terminating on signal\n");
  finish(emu, ARBOR_EXIT_OK);
  return G_SOURCE_CONTINUE;
}

static gboolean
add_device(Emulator *emu, const char *options, GError **error)
{
  g_autoptr(ArborDevice) device = arbor_device_new_from_options(options, error);

  return device && arbor_machine_add_device(emu->machine, device, error);
}

static const struct {
  guint iobase, irq;
} com_ports[ARBOR_MAX_SERIAL] = { { 0x3f8, 4 }, { 0x2f8, 3 }, { 0x3e8, 4 }, { 0x2e8, 3 } };

static char *
escape_value(const char *value)
{
  GString *out = g_string_new(NULL);

  for (const char *p = value; *p; p++) {
    if (*p == ',')
      g_string_append_c(out, ',');
    g_string_append_c(out, *p);
  }
  return g_string_free(out, FALSE);
}

/* Value of KEY= in a -device string (last one wins), or NULL. */
static char *
device_option(const char *options, const char *key)
{
  g_auto(GStrv) items = g_strsplit(options, ",", -1);
  g_autofree char *prefix = g_strconcat(key, "=", NULL);
  char *found = NULL;

  for (guint i = 1; items[i]; i++) {
    if (g_str_has_prefix(items[i], prefix)) {
      g_free(found);
      found = g_strdup(items[i] + strlen(prefix));
    }
  }
  return found;
}

static gboolean
add_devices(Emulator *emu, GError **error)
{
  ArborCmdline *cl = emu->cl;
  gboolean used[ARBOR_MAX_SERIAL] = { FALSE };
  GPtrArray *serials = cl->serials;
  g_autoptr(GPtrArray) implied = g_ptr_array_new();

  /* -nographic puts COM1 on stdio unless -serial said where. */
  if (cl->nographic && serials->len == 0)
    g_ptr_array_add(implied, (gpointer) "stdio");
  if (serials->len == 0)
    serials = implied;

  /* COM1 comes with the board (i8042, port 0x92, stubs) unless -nodefaults
   * or -serial none; without -serial it is on "null" (QEMU's default with
   * no display is a virtual console arbor does not have). */
  const char *com1 = serials->len > 0 ? serials->pdata[0] : (cl->nodefaults ? NULL : "null");
  if (com1 && !g_str_equal(com1, "none")) {
    if (!arbor_machine_add_default_devices(emu->machine, com1, error))
      return FALSE;
    used[0] = TRUE;
  } else {
    if (!add_device(emu, "i8042", error) || !add_device(emu, "port92", error) || !add_device(emu, "legacy-stubs", error))
      return FALSE;
  }
  for (guint i = 1; i < serials->len; i++) {
    if (g_str_equal(serials->pdata[i], "none"))
      continue;
    g_autofree char *spec = escape_value(serials->pdata[i]);
    g_autofree char *opts = g_strdup_printf("isa-serial,iobase=0x%x,irq=%u,chardev=%s", com_ports[i].iobase,
                                            com_ports[i].irq, spec);
    if (!add_device(emu, opts, error))
      return FALSE;
    used[i] = TRUE;
  }

  for (guint i = 0; i < cl->devices->len; i++) {
    const char *opts = cl->devices->pdata[i];
    g_autofree char *with_port = NULL;
    if (g_str_equal(opts, "isa-serial") || g_str_has_prefix(opts, "isa-serial,")) {
      g_autofree char *iobase = device_option(opts, "iobase");
      if (iobase) {
        guint64 base = 0;
        arbor_cmdline_parse_uint(iobase, &base);
        for (guint p = 0; p < ARBOR_MAX_SERIAL; p++)
          used[p] |= com_ports[p].iobase == base;
      } else {
        guint p = 0;
        while (p < ARBOR_MAX_SERIAL && used[p])
          p++;
        if (p == ARBOR_MAX_SERIAL) {
          g_set_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID,
                      "-device %s: COM1..COM4 are taken; give iobase= and irq=", opts);
          return FALSE;
        }
        g_autofree char *irq = device_option(opts, "irq");
        with_port = irq ? g_strdup_printf("%s,iobase=0x%x", opts, com_ports[p].iobase)
                        : g_strdup_printf("%s,iobase=0x%x,irq=%u", opts, com_ports[p].iobase, com_ports[p].irq);
        used[p] = TRUE;
      }
    }
    if (!add_device(emu, with_port ? with_port : opts, error)) {
      g_prefix_error(error, "-device %s: ", opts);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
load_guest(Emulator *emu, GError **error)
{
  ArborCmdline *cl = emu->cl;

  emu->loader = arbor_loader_new(emu->machine);
  if (cl->kernel) {
    ArborLoaderOptions opts = { .kernel = cl->kernel, .append = cl->append, .initrd = cl->initrd };
    if (!arbor_loader_load_kernel(emu->loader, &opts, error))
      return FALSE;
  }
  for (guint i = 0; i < cl->loaders->len; i++) {
    ArborCmdlineLoader *l = cl->loaders->pdata[i];
    if (!arbor_loader_load_flat(emu->loader, l->file, l->addr, l->set_entry, l->mode, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
build(Emulator *emu, GError **error)
{
  ArborCmdline *cl = emu->cl;
  const char *accel_name = cl->accel ? cl->accel : cl->qtest ? "qtest" : "kvm";

  emu->machine = arbor_machine_new(cl->ram_size, cl->smp, NULL, error);
  if (!emu->machine)
    return FALSE;
  emu->accel = arbor_accel_new(accel_name, error);
  if (!emu->accel)
    return FALSE;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(emu->accel), "irqchip"))
    g_object_set(emu->accel, "irqchip", TRUE, NULL);
  if (!arbor_machine_set_accel(emu->machine, emu->accel, error))
    return FALSE;
  if (!add_devices(emu, error) || !load_guest(emu, error))
    return FALSE;
  /* arbor has no firmware: without a kernel the vCPU would fetch from the
   * empty reset vector. QEMU would run its BIOS here; say what happens. */
  if (!cl->qtest && !g_str_equal(accel_name, "qtest") && arbor_loader_get_entry(emu->loader) == 0 && !cl->start_paused)
    g_printerr("arbor: warning: no -kernel and no -device loader,cpu-num=0: arbor has no firmware, "
               "vCPU 0 starts at the empty reset vector\n");
  if (cl->qtest) {
    emu->qtest = arbor_qtest_server_new(emu->machine, cl->qtest, cl->qtest_log, error);
    if (!emu->qtest)
      return FALSE;
  }
  if (cl->monitor && !g_str_equal(cl->monitor, "none")) {
    emu->monitor = arbor_monitor_new(emu->machine, cl->monitor, error);
    if (!emu->monitor)
      return FALSE;
  }
  return TRUE;
}

int
arbor_emulator_run(ArborCmdline *cl)
{
  g_autoptr(GError) error = NULL;
  Emulator emu = { .cl = cl, .exit_code = ARBOR_EXIT_OK };

  if (!setup_logging(cl, &error)) {
    g_printerr("arbor: %s\n", error->message);
    return ARBOR_EXIT_USAGE;
  }
  /* A closed socket peer must not kill us with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);

  emu.loop = g_main_loop_new(NULL, FALSE);
  if (!build(&emu, &error)) {
    g_printerr("arbor: %s\n", error->message);
    emu.exit_code = ARBOR_EXIT_USAGE;
    goto out;
  }

  g_signal_connect(emu.machine, "shutdown-requested", G_CALLBACK(on_shutdown_requested), &emu);
  g_signal_connect(emu.machine, "reset-requested", G_CALLBACK(on_reset_requested), &emu);
  g_signal_connect(arbor_machine_get_vcpu_manager(emu.machine), "vcpu-state-changed",
                   G_CALLBACK(on_vcpu_state_changed), &emu);
  guint sig_int = g_unix_signal_add(SIGINT, on_unix_signal, &emu);
  guint sig_term = g_unix_signal_add(SIGTERM, on_unix_signal, &emu);
  guint sig_hup = g_unix_signal_add(SIGHUP, on_unix_signal, &emu);

  if (!cl->start_paused)
    arbor_machine_run(emu.machine);
  g_main_loop_run(emu.loop);

  g_source_remove(sig_int);
  g_source_remove(sig_term);
  g_source_remove(sig_hup);
  g_signal_handlers_disconnect_by_data(arbor_machine_get_vcpu_manager(emu.machine), &emu);
  g_signal_handlers_disconnect_by_data(emu.machine, &emu);

out:
  g_clear_object(&emu.monitor);
  g_clear_object(&emu.qtest);
  if (emu.machine)
    arbor_machine_shutdown(emu.machine);
  g_clear_object(&emu.loader);
  g_clear_object(&emu.machine);
  g_clear_object(&emu.accel);
  g_main_loop_unref(emu.loop);
  return emu.exit_code;
}
