/* arbor's error domain and version. */
#include "arbor-config.h"

#include <arbor/arbor-types.h>

G_DEFINE_QUARK(arbor-error-quark, arbor_error)

const char *
arbor_version_string(void)
{
  return ARBOR_VERSION;
}
