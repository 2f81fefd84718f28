/* accel-kvm.so: the module entry points arbor's loader looks for. */
#include "arbor-config.h"

#include <gmodule.h>

#include "kvm-private.h"

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
  arbor_kvm_memory_listener_register(module);
  arbor_kvm_accel_register(module);
  arbor_accel_register(ARBOR_TYPE_KVM_ACCEL, "kvm", 100);
}

G_MODULE_EXPORT void
arbor_module_unload(GTypeModule *module)
{
}
