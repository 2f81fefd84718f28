/* fuzz-qtest: arbitrary bytes as qtest protocol input to an in-process
 * server on the qtest accelerator, with the default machine (COM1, i8042,
 * port 0x92, the legacy stubs) plus isa-debug-exit. Every device register
 * is reachable through outb/inb/read/write, and every parser path through
 * the line syntax.
 *
 * One machine serves all inputs (creating vCPU threads per input would be
 * slow); it is reset before each input and the main context is drained
 * after, so inputs stay independent. The server is created per input so a
 * half line never leaks into the next one and its teardown is checked too.
 */
#include "arbor-config.h"

#include <arbor/arbor.h>

#include "fuzz-util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  ArborMachine *machine; /* owned */
  GMainContext *context; /* the machine's; owned ref */
  guint64 shutdowns;     /* "shutdown-requested" seen (never exits the fuzzer) */
  guint64 resets;
  gsize output_bytes;    /* of the current input */
} FuzzQtest;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FuzzQtest *
fuzz_get(void)
{
  /* Created once in LLVMFuzzerInitialize; libFuzzer is single-threaded. */
  static FuzzQtest fuzz;
  return &fuzz;
}

static void
on_shutdown_requested(ArborMachine *machine, int exit_code, gpointer user_data)
{
  FuzzQtest *f = user_data;
  f->shutdowns++;
}

static void
on_reset_requested(ArborMachine *machine, gpointer user_data)
{
  FuzzQtest *f = user_data;
  f->resets++;
}

static void
on_output(gpointer opaque, const char *data, gsize len)
{
  FuzzQtest *f = opaque;
  /* Replies are text lines; a reply is never empty. */
  if (len == 0) {
    fprintf(stderr, "fuzz-qtest: empty output chunk\n");
    abort();
  }
  f->output_bytes += len;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  FuzzQtest *f = fuzz_get();
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborDevice) debug_exit = NULL;

  f->context = g_main_context_new();
  f->machine = fuzz_new_qtest_machine("fuzz-qtest", 16 * 1024 * 1024, f->context);
  if (!arbor_machine_add_default_devices(f->machine, "null", &error))
    fuzz_die("fuzz-qtest", "default devices", error);
  debug_exit = arbor_device_new_from_options("isa-debug-exit,iobase=0xf4,iosize=0x04", &error);
  if (debug_exit == NULL)
    fuzz_die("fuzz-qtest", "isa-debug-exit", error);
  if (!arbor_machine_add_device(f->machine, debug_exit, &error))
    fuzz_die("fuzz-qtest", "add isa-debug-exit", error);
  g_signal_connect(f->machine, "shutdown-requested", G_CALLBACK(on_shutdown_requested), f);
  g_signal_connect(f->machine, "reset-requested", G_CALLBACK(on_reset_requested), f);
  return 0;
}

static void
drain(FuzzQtest *f)
{
  /* Bounded: a source that re-arms itself forever would be a hang finding,
   * but must not hang the fuzzer. */
  for (int i = 0; i < 1000 && g_main_context_iteration(f->context, FALSE); i++)
    ;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  FuzzQtest *f = fuzz_get();
  g_autoptr(GError) error = NULL;
  ArborQtestServer *server;
  size_t pos = 0;
  guint chunk = 1;

  if (!arbor_machine_reset(f->machine, &error)) {
    fprintf(stderr, "fuzz-qtest: reset failed: %s\n", error->message);
    abort();
  }
  drain(f);
  f->output_bytes = 0;

  server = arbor_qtest_server_new_in_process(f->machine, on_output, f);
  if (server == NULL)
    abort();
  /* Feed in growing chunks so lines are split at many places. */
  while (pos < size) {
    size_t n = MIN(size - pos, chunk);
    arbor_qtest_server_feed(server, (const char *) data + pos, n);
    pos += n;
    chunk = chunk * 3 + 1;
    drain(f);
  }
  g_object_unref(server);
  drain(f);
  return 0;
}
