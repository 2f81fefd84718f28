/* accel-qtest.so: the module entry points arbor's loader looks up. */
#include "arbor-config.h"

#include <gmodule.h>

#include <arbor/accel.h>

#include "qtest-accel.h"

/* Below kvm: "qtest" is only chosen when asked for by name. */
#define QTEST_ACCEL_PRIORITY 0

G_MODULE_EXPORT guint arbor_module_abi_version(void);
G_MODULE_EXPORT void arbor_module_load(GTypeModule *module);
G_MODULE_EXPORT void arbor_module_unload(GTypeModule *module);

G_MODULE_EXPORT guint
arbor_module_abi_version(void)
{
  return ARBOR_MODULE_ABI_VERSION;
}

G_MODULE_EXPORT void
arbor_module_load(GTypeModule *module)
{
  arbor_qtest_accel_register(module);
  arbor_accel_register(ARBOR_TYPE_QTEST_ACCEL, "qtest", QTEST_ACCEL_PRIORITY);
}

G_MODULE_EXPORT void
arbor_module_unload(GTypeModule *module)
{
  /* Types of a GTypeModule stay registered; nothing to undo. */
}
