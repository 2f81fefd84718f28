/* arbor: the emulator binary. Parsing lives in cmdline.c, the run in emulator.c. */
#include "arbor-config.h"

#include "cmdline-private.h"

#include <arbor/arbor.h>

#include <locale.h>
#include <stdio.h>

static void
print_devices(void)
{
  g_auto(GStrv) names = arbor_device_list_names();

  g_print("Devices (-device NAME[,PROP=VALUE...]):\n");
  for (guint i = 0; names && names[i]; i++) {
    GType type = arbor_device_type_from_name(names[i]);
    const char *description = NULL;
    if (type != G_TYPE_INVALID) {
      ArborDeviceClass *klass = g_type_class_ref(type);
      description = klass->description;
      g_type_class_unref(klass);
    }
    if (description)
      g_print("name \"%s\", desc \"%s\"\n", names[i], description);
    else
      g_print("name \"%s\"\n", names[i]);
  }
  g_print("name \"loader\", desc \"generic loader: file=F,addr=A[,cpu-num=0][,mode=real|protected|long]\"\n");
}

static void
print_accels(void)
{
  g_auto(GStrv) names = arbor_accel_list_registered();

  g_print("Accelerators supported in arbor binary:\nkvm\nqtest\n");
  for (guint i = 0; names && names[i]; i++) {
    if (!g_str_equal(names[i], "kvm") && !g_str_equal(names[i], "qtest"))
      g_print("%s\n", names[i]);
  }
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  setlocale(LC_ALL, "");
  g_autoptr(ArborCmdline) cl = arbor_cmdline_parse(argc, argv, &error);
  if (!cl) {
    g_printerr("arbor: %s\n", error->message);
    return ARBOR_EXIT_USAGE;
  }

  switch (cl->action) {
  case ARBOR_CMDLINE_HELP:
    text = arbor_cmdline_help_text();
    g_print("%s", text);
    return ARBOR_EXIT_OK;
  case ARBOR_CMDLINE_VERSION:
    g_print("arbor emulator version %s\n", arbor_version_string());
    return ARBOR_EXIT_OK;
  case ARBOR_CMDLINE_MACHINE_HELP:
    text = arbor_cmdline_machine_help_text();
    g_print("%s", text);
    return ARBOR_EXIT_OK;
  case ARBOR_CMDLINE_LOG_HELP:
    text = arbor_cmdline_log_help_text();
    g_print("%s", text);
    return ARBOR_EXIT_OK;
  case ARBOR_CMDLINE_DEVICE_HELP:
    print_devices();
    return ARBOR_EXIT_OK;
  case ARBOR_CMDLINE_ACCEL_HELP:
    print_accels();
    return ARBOR_EXIT_OK;
  case ARBOR_CMDLINE_RUN:
    break;
  }
  fflush(stdout);
  return arbor_emulator_run(cl);
}
