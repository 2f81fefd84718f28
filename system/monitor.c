/* ArborMonitor: QEMU's human monitor, the handful of commands arbor has.
 * Runs on the machine's main context; input lines are bounded. */
#include "arbor-config.h"

#include <arbor/address-space.h>
#include <arbor/chardev.h>
#include <arbor/device.h>
#include <arbor/machine.h>
#include <arbor/memory-listener.h>
#include <arbor/memory-region.h>
#include <arbor/monitor.h>
#include <arbor/vcpu-manager.h>
#include <arbor/vcpu.h>

#include <string.h>

struct _ArborMonitor {
  GObject parent_instance;

  ArborMachine *machine; /* owned ref */
  ArborChardev *chr;     /* owned; NULL in process */
  gulong received_id;
  gulong opened_id;
  GString *line;      /* owned: the partial input line */
  gboolean overlong;  /* dropping the rest of a too-long line */
  gboolean after_cr;  /* the last byte was CR: a following LF ends nothing */
  guint escape;       /* 1: after ESC, 2: inside ESC [ ... */
};

G_DEFINE_FINAL_TYPE(ArborMonitor, arbor_monitor, G_TYPE_OBJECT)

/* A listener added for a moment: the address space replays every section
 * of its flat view into it (the monitor's way to list regions). */
#define SECTION_COLLECTOR_TYPE (section_collector_get_type())
G_DECLARE_FINAL_TYPE(SectionCollector, section_collector, SECTION, COLLECTOR, GObject)

struct _SectionCollector {
  GObject parent_instance;
  GArray *sections; /* ArborMemorySection (region refs held) */
  gboolean collecting;
};

static void
section_collector_add(ArborMemoryListener *listener, ArborAddressSpace *as, const ArborMemorySection *section)
{
  SectionCollector *self = SECTION_COLLECTOR(listener);

  if (!self->collecting)
    return;
  ArborMemorySection copy = *section;
  g_object_ref(copy.mr);
  g_array_append_val(self->sections, copy);
}

static void
section_collector_iface_init(ArborMemoryListenerInterface *iface)
{
  iface->section_add = section_collector_add;
}

G_DEFINE_FINAL_TYPE_WITH_CODE(SectionCollector, section_collector, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(ARBOR_TYPE_MEMORY_LISTENER, section_collector_iface_init))

static void
section_clear(gpointer p)
{
  ArborMemorySection *s = p;

  g_clear_object(&s->mr);
}

static void
section_collector_finalize(GObject *object)
{
  SectionCollector *self = SECTION_COLLECTOR(object);

  g_array_unref(self->sections);
  G_OBJECT_CLASS(section_collector_parent_class)->finalize(object);
}

static void
section_collector_class_init(SectionCollectorClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = section_collector_finalize;
}

static void
section_collector_init(SectionCollector *self)
{
  self->sections = g_array_new(FALSE, TRUE, sizeof(ArborMemorySection));
  g_array_set_clear_func(self->sections, section_clear);
}

static GArray *
collect_sections(ArborAddressSpace *as)
{
  g_autoptr(SectionCollector) c = g_object_new(SECTION_COLLECTOR_TYPE, NULL);

  c->collecting = TRUE;
  arbor_address_space_add_listener(as, ARBOR_MEMORY_LISTENER(c));
  c->collecting = FALSE;
  arbor_address_space_remove_listener(as, ARBOR_MEMORY_LISTENER(c));
  return g_array_ref(c->sections);
}

/* ---- commands ---- */

typedef void (*CommandFunc)(ArborMonitor *mon, const char *args, GString *out);

typedef struct {
  const char *name;
  const char *alias;
  const char *args_help;
  const char *help;
  CommandFunc func;
} Command;

static gboolean
no_args(const char *name, const char *args, GString *out)
{
  if (*args == '\0')
    return TRUE;
  g_string_append_printf(out, "%s: unexpected argument '%s'\n", name, args);
  return FALSE;
}

static void
cmd_status(ArborMonitor *mon, GString *out)
{
  ArborVcpuManager *mgr = arbor_machine_get_vcpu_manager(mon->machine);
  const char *status = "paused";

  if (arbor_machine_is_running(mon->machine))
    status = "running";
  else if (mgr && arbor_vcpu_manager_get_count(mgr) > 0 &&
           arbor_vcpu_get_state(arbor_vcpu_manager_get_vcpu(mgr, 0)) == ARBOR_VCPU_STATE_CREATED)
    status = "paused (prelaunch)"; /* -S, never run: QEMU's words */
  g_string_append_printf(out, "VM status: %s\n", status);
}

static void
cmd_stop(ArborMonitor *mon, const char *args, GString *out)
{
  if (no_args("stop", args, out))
    arbor_machine_pause(mon->machine);
}

static void
cmd_cont(ArborMonitor *mon, const char *args, GString *out)
{
  if (no_args("cont", args, out))
    arbor_machine_run(mon->machine);
}

static void
cmd_quit(ArborMonitor *mon, const char *args, GString *out)
{
  if (no_args("quit", args, out))
    arbor_machine_request_shutdown(mon->machine, 0);
}

static void
cmd_system_reset(ArborMonitor *mon, const char *args, GString *out)
{
  g_autoptr(GError) error = NULL;

  if (!no_args("system_reset", args, out))
    return;
  if (!arbor_machine_reset(mon->machine, &error))
    g_string_append_printf(out, "system_reset: %s\n", error->message);
}

static void
cmd_mtree(ArborMonitor *mon, GString *out)
{
  g_autofree char *mem = arbor_address_space_dump(arbor_machine_get_memory(mon->machine));
  g_autofree char *io = arbor_address_space_dump(arbor_machine_get_io(mon->machine));

  g_string_append(out, mem ? mem : "");
  if (out->len && out->str[out->len - 1] != '\n')
    g_string_append_c(out, '\n');
  g_string_append_c(out, '\n');
  g_string_append(out, io ? io : "");
  if (out->len && out->str[out->len - 1] != '\n')
    g_string_append_c(out, '\n');
}

static guint32
segment_flags(const ArborSegment *s)
{
  return ((guint32)s->type << 8) | ((guint32)s->s << 12) | ((guint32)s->dpl << 13) | ((guint32)s->present << 15) |
         ((guint32)s->avl << 20) | ((guint32)s->l << 21) | ((guint32)s->db << 22) | ((guint32)s->g << 23);
}

static void
print_segment(GString *out, const char *name, const ArborSegment *s)
{
  g_string_append_printf(out, "%-3s=%04x %016" G_GINT64_MODIFIER "x %08x %08x\n", name, s->selector, s->base, s->limit,
                         segment_flags(s));
}

static void
print_vcpu_registers(GString *out, ArborVcpu *vcpu, ArborVcpuState state)
{
  g_autoptr(GError) error = NULL;
  ArborRegs r;
  ArborSregs s;

  g_string_append_printf(out, "CPU#%u (%s)\n", arbor_vcpu_get_index(vcpu), arbor_vcpu_state_name(state));
  if (!arbor_vcpu_get_regs(vcpu, &r, &error) || !arbor_vcpu_get_sregs(vcpu, &s, &error)) {
    g_string_append_printf(out, "info registers: CPU#%u: %s\n", arbor_vcpu_get_index(vcpu), error->message);
    return;
  }
#define X64 "%016" G_GINT64_MODIFIER "x"
  g_string_append_printf(out, "RAX=" X64 " RBX=" X64 " RCX=" X64 " RDX=" X64 "\n", r.rax, r.rbx, r.rcx, r.rdx);
  g_string_append_printf(out, "RSI=" X64 " RDI=" X64 " RBP=" X64 " RSP=" X64 "\n", r.rsi, r.rdi, r.rbp, r.rsp);
  g_string_append_printf(out, "R8 =" X64 " R9 =" X64 " R10=" X64 " R11=" X64 "\n", r.r8, r.r9, r.r10, r.r11);
  g_string_append_printf(out, "R12=" X64 " R13=" X64 " R14=" X64 " R15=" X64 "\n", r.r12, r.r13, r.r14, r.r15);
  g_string_append_printf(out, "RIP=" X64 " RFL=%08x CPL=%u\n", r.rip, (guint32)r.rflags, s.cs.selector & 3);
  print_segment(out, "ES", &s.es);
  print_segment(out, "CS", &s.cs);
  print_segment(out, "SS", &s.ss);
  print_segment(out, "DS", &s.ds);
  print_segment(out, "FS", &s.fs);
  print_segment(out, "GS", &s.gs);
  print_segment(out, "LDT", &s.ldt);
  print_segment(out, "TR", &s.tr);
  g_string_append_printf(out, "GDT=     " X64 " %08x\n", s.gdt.base, s.gdt.limit);
  g_string_append_printf(out, "IDT=     " X64 " %08x\n", s.idt.base, s.idt.limit);
  g_string_append_printf(out, "CR0=%08x CR2=" X64 " CR3=" X64 " CR4=%08x\n", (guint32)s.cr0, s.cr2, s.cr3,
                         (guint32)s.cr4);
  g_string_append_printf(out, "CR8=" X64 " EFER=" X64 " APIC_BASE=" X64 "\n", s.cr8, s.efer, s.apic_base);
#undef X64
}

/* Registers are only readable on a stopped vCPU: pause around the read. */
static void
cmd_registers(ArborMonitor *mon, GString *out)
{
  ArborVcpuManager *mgr = arbor_machine_get_vcpu_manager(mon->machine);

  if (!mgr) {
    g_string_append(out, "info registers: the machine has no vCPUs (no accelerator)\n");
    return;
  }
  guint n = arbor_vcpu_manager_get_count(mgr);
  g_autofree ArborVcpuState *states = g_new(ArborVcpuState, n);
  for (guint i = 0; i < n; i++)
    states[i] = arbor_vcpu_get_state(arbor_vcpu_manager_get_vcpu(mgr, i));
  gboolean was_running = arbor_machine_is_running(mon->machine);
  if (was_running)
    arbor_machine_pause(mon->machine);
  for (guint i = 0; i < n; i++)
    print_vcpu_registers(out, arbor_vcpu_manager_get_vcpu(mgr, i), states[i]);
  if (was_running)
    arbor_machine_run(mon->machine);
}

typedef struct {
  ArborMemoryRegion *mr;
  const char *space;
  guint64 start, end; /* first section seen */
  guint64 count;
} RegionRow;

static int
row_cmp(gconstpointer a, gconstpointer b)
{
  const RegionRow *x = a, *y = b;

  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

static void
add_region_rows(GArray *rows, ArborAddressSpace *as, const char *space)
{
  g_autoptr(GArray) sections = collect_sections(as);

  for (guint i = 0; i < sections->len; i++) {
    ArborMemorySection *s = &g_array_index(sections, ArborMemorySection, i);
    gboolean seen = FALSE;
    for (guint j = 0; j < rows->len && !seen; j++)
      seen = g_array_index(rows, RegionRow, j).mr == s->mr;
    if (seen)
      continue;
    RegionRow row = {
      .mr = s->mr,
      .space = space,
      .start = s->offset_within_address_space,
      .end = s->offset_within_address_space + s->size - 1,
      .count = arbor_memory_region_get_access_count(s->mr),
    };
    g_array_append_val(rows, row);
  }
}

static void
cmd_exits(ArborMonitor *mon, GString *out)
{
  ArborVcpuManager *mgr = arbor_machine_get_vcpu_manager(mon->machine);

  if (mgr) {
    for (guint i = 0; i < arbor_vcpu_manager_get_count(mgr); i++) {
      ArborVcpu *vcpu = arbor_vcpu_manager_get_vcpu(mgr, i);
      guint64 total = 0;
      g_string_append_printf(out, "CPU#%u exits:", i);
      for (guint st = 0; st < ARBOR_VCPU_STAT_N; st++) {
        guint64 n = arbor_vcpu_get_stat(vcpu, st);
        total += n;
        g_string_append_printf(out, " %s=%" G_GUINT64_FORMAT, arbor_vcpu_stat_name(st), n);
      }
      g_string_append_printf(out, " total=%" G_GUINT64_FORMAT "\n", total);
    }
  }

  /* Regions that served accesses, busiest first: where the guest exits. */
  g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(RegionRow));
  add_region_rows(rows, arbor_machine_get_io(mon->machine), "io");
  add_region_rows(rows, arbor_machine_get_memory(mon->machine), "memory");
  g_array_sort(rows, row_cmp);
  g_string_append(out, "region accesses (space, first range, region, count):\n");
  for (guint i = 0; i < rows->len; i++) {
    RegionRow *row = &g_array_index(rows, RegionRow, i);
    GObject *owner = arbor_memory_region_get_owner(row->mr);
    const char *id = owner && ARBOR_IS_DEVICE(owner) ? arbor_device_get_id(ARBOR_DEVICE(owner)) : NULL;
    g_autofree char *name = id ? g_strdup_printf("%s (%s)", arbor_memory_region_get_name(row->mr), id)
                               : g_strdup(arbor_memory_region_get_name(row->mr));
    g_string_append_printf(out, "  %-6s %016" G_GINT64_MODIFIER "x-%016" G_GINT64_MODIFIER "x %-32s %" G_GUINT64_FORMAT "\n",
                           row->space, row->start, row->end, name, row->count);
  }
}

static void cmd_help(ArborMonitor *mon, const char *args, GString *out);

static void
cmd_info(ArborMonitor *mon, const char *args, GString *out)
{
  if (g_str_equal(args, "status"))
    cmd_status(mon, out);
  else if (g_str_equal(args, "mtree"))
    cmd_mtree(mon, out);
  else if (g_str_equal(args, "registers"))
    cmd_registers(mon, out);
  else if (g_str_equal(args, "exits"))
    cmd_exits(mon, out);
  else if (*args == '\0')
    g_string_append(out, "info: missing item (status, mtree, registers, exits)\n");
  else
    g_string_append_printf(out, "info: unknown item '%s' (status, mtree, registers, exits)\n", args);
}

static const Command commands[] = {
  { "help", "?", NULL, "list the commands", cmd_help },
  { "info", NULL, "status|mtree|registers|exits", "show the VM status, the memory tree, the registers of each vCPU, exit counts", cmd_info },
  { "stop", "s", NULL, "pause the vCPUs", cmd_stop },
  { "cont", "c", NULL, "resume the vCPUs", cmd_cont },
  { "system_reset", NULL, NULL, "reset the machine (the loader reloads the kernel)", cmd_system_reset },
  { "quit", "q", NULL, "quit arbor (exit code 0)", cmd_quit },
};

static void
cmd_help(ArborMonitor *mon, const char *args, GString *out)
{
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
    g_autofree char *left = g_strdup_printf("%s%s%s%s%s", commands[i].name, commands[i].alias ? "|" : "",
                                            commands[i].alias ? commands[i].alias : "", commands[i].args_help ? " " : "",
                                            commands[i].args_help ? commands[i].args_help : "");
    g_string_append_printf(out, "%-42s -- %s\n", left, commands[i].help);
  }
}

char *
arbor_monitor_execute(ArborMonitor *mon, const char *line)
{
  g_return_val_if_fail(ARBOR_IS_MONITOR(mon), g_strdup(""));
  g_return_val_if_fail(line != NULL, g_strdup(""));

  GString *out = g_string_new(NULL);
  if (strlen(line) > ARBOR_MONITOR_MAX_LINE) {
    g_string_append_printf(out, "line too long (more than %d bytes)\n", ARBOR_MONITOR_MAX_LINE);
    return g_string_free(out, FALSE);
  }
  g_autofree char *copy = g_strstrip(g_strdup(line));
  if (*copy == '\0')
    return g_string_free(out, FALSE);

  char *args = copy;
  while (*args && !g_ascii_isspace(*args))
    args++;
  if (*args) {
    *args++ = '\0';
    g_strstrip(args);
  }
  /* Bytes a terminal may send (escape sequences, NULs) stay in the echo,
   * made printable. */
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
    if (g_str_equal(copy, commands[i].name) || (commands[i].alias && g_str_equal(copy, commands[i].alias))) {
      g_debug("monitor: %s %s", copy, args);
      commands[i].func(mon, args, out);
      return g_string_free(out, FALSE);
    }
  }
  g_autofree char *shown = g_strescape(copy, NULL);
  g_string_append_printf(out, "unknown command: '%s' (try 'help')\n", shown);
  return g_string_free(out, FALSE);
}

static void
monitor_write(ArborMonitor *mon, const char *text)
{
  if (!mon->chr || !*text)
    return;
  /* Terminals want CRLF; the backend may be a raw-mode tty. */
  g_autoptr(GString) crlf = g_string_new(NULL);
  for (const char *p = text; *p; p++) {
    if (*p == '\n')
      g_string_append_c(crlf, '\r');
    g_string_append_c(crlf, *p);
  }
  arbor_chardev_write(mon->chr, crlf->str, crlf->len);
}

/* Echoes what the user typed, as QEMU's monitor does (a raw-mode terminal
 * does not echo by itself). */
static void
monitor_echo(ArborMonitor *mon, const char *bytes, gsize len)
{
  if (mon->chr)
    arbor_chardev_write(mon->chr, bytes, len);
}

static void
monitor_end_line(ArborMonitor *mon)
{
  monitor_echo(mon, "\r\n", 2);
  if (mon->overlong) {
    mon->overlong = FALSE;
    g_autofree char *msg = g_strdup_printf("line too long (more than %d bytes)\n", ARBOR_MONITOR_MAX_LINE);
    monitor_write(mon, msg);
  } else {
    g_autofree char *out = arbor_monitor_execute(mon, mon->line->str);
    monitor_write(mon, out);
  }
  g_string_truncate(mon->line, 0);
  monitor_write(mon, ARBOR_MONITOR_PROMPT);
}

void
arbor_monitor_feed(ArborMonitor *mon, const char *data, gsize len)
{
  g_return_if_fail(ARBOR_IS_MONITOR(mon));

  for (gsize i = 0; i < len; i++) {
    char c = data[i];
    gboolean after_cr = mon->after_cr;

    mon->after_cr = FALSE;
    /* Terminal escape sequences (arrow keys...): ESC [ ... final byte. */
    if (mon->escape == 1) {
      mon->escape = (c == '[' || c == 'O') ? 2 : 0;
      continue;
    }
    if (mon->escape == 2) {
      if (c >= 0x40 && c <= 0x7e)
        mon->escape = 0;
      continue;
    }
    switch (c) {
    case '\n':
      if (!after_cr)
        monitor_end_line(mon);
      continue;
    case '\r':
      mon->after_cr = TRUE;
      monitor_end_line(mon);
      continue;
    case 0x1b:
      mon->escape = 1;
      continue;
    case 0x7f: /* backspace/DEL */
    case 0x08:
      if (!mon->overlong && mon->line->len > 0) {
        g_string_truncate(mon->line, mon->line->len - 1);
        monitor_echo(mon, "\b \b", 3);
      }
      continue;
    case 0x15: /* ^U: kill the line */
      while (mon->line->len > 0) {
        g_string_truncate(mon->line, mon->line->len - 1);
        monitor_echo(mon, "\b \b", 3);
      }
      mon->overlong = FALSE;
      continue;
    default:
      break;
    }
    if (mon->overlong)
      continue;
    if (mon->line->len >= ARBOR_MONITOR_MAX_LINE) {
      mon->overlong = TRUE;
      g_string_truncate(mon->line, 0);
      continue;
    }
    g_string_append_c(mon->line, c);
    monitor_echo(mon, &c, 1);
  }
}

static void
on_received(ArborChardev *chr, GBytes *bytes, gpointer user_data)
{
  ArborMonitor *mon = user_data;
  gsize len;
  const char *data = g_bytes_get_data(bytes, &len);

  g_object_ref(mon);
  arbor_monitor_feed(mon, data, len);
  g_object_unref(mon);
}

static void
send_banner(ArborMonitor *mon)
{
  g_autofree char *banner = g_strdup_printf("arbor %s monitor - type 'help' for more information\n" ARBOR_MONITOR_PROMPT,
                                            arbor_version_string());
  monitor_write(mon, banner);
}

static void
on_opened(ArborChardev *chr, gpointer user_data)
{
  ArborMonitor *mon = user_data;

  g_string_truncate(mon->line, 0);
  mon->overlong = FALSE;
  mon->after_cr = FALSE;
  mon->escape = 0;
  send_banner(mon);
}

ArborMonitor *
arbor_monitor_new_in_process(ArborMachine *machine)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(machine), NULL);

  ArborMonitor *mon = g_object_new(ARBOR_TYPE_MONITOR, NULL);
  mon->machine = g_object_ref(machine);
  return mon;
}

ArborMonitor *
arbor_monitor_new(ArborMachine *machine, const char *spec, GError **error)
{
  g_return_val_if_fail(ARBOR_IS_MACHINE(machine), NULL);
  g_return_val_if_fail(spec != NULL, NULL);

  g_autoptr(ArborChardev) chr = arbor_chardev_new(spec, arbor_machine_get_context(machine), error);
  if (!chr)
    return NULL;
  ArborMonitor *mon = arbor_monitor_new_in_process(machine);
  mon->chr = g_steal_pointer(&chr);
  mon->received_id = g_signal_connect(mon->chr, "received", G_CALLBACK(on_received), mon);
  mon->opened_id = g_signal_connect(mon->chr, "opened", G_CALLBACK(on_opened), mon);
  if (arbor_chardev_is_connected(mon->chr))
    send_banner(mon);
  return mon;
}

static void
arbor_monitor_dispose(GObject *object)
{
  ArborMonitor *mon = ARBOR_MONITOR(object);

  if (mon->chr) {
    /* The answer to "quit" and anything before it reach the user. */
    arbor_chardev_flush(mon->chr, 1000);
    g_clear_signal_handler(&mon->received_id, mon->chr);
    g_clear_signal_handler(&mon->opened_id, mon->chr);
    g_clear_object(&mon->chr);
  }
  g_clear_object(&mon->machine);
  G_OBJECT_CLASS(arbor_monitor_parent_class)->dispose(object);
}

static void
arbor_monitor_finalize(GObject *object)
{
  ArborMonitor *mon = ARBOR_MONITOR(object);

  g_string_free(mon->line, TRUE);
  G_OBJECT_CLASS(arbor_monitor_parent_class)->finalize(object);
}

static void
arbor_monitor_class_init(ArborMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->dispose = arbor_monitor_dispose;
  object_class->finalize = arbor_monitor_finalize;
}

static void
arbor_monitor_init(ArborMonitor *mon)
{
  mon->line = g_string_new(NULL);
}
