/* Test plugin modules, one source built four ways (TEST_MODULE_KIND):
 *   1 good: registers "testgood";  2 badabi: wrong ABI number;
 *   3 noload: no arbor_module_load;  4 empty: registers nothing. */
#include <gmodule.h>

#include <arbor/accel.h>

G_MODULE_EXPORT guint arbor_module_abi_version(void);
G_MODULE_EXPORT void arbor_module_unload(GTypeModule *module);

#if TEST_MODULE_KIND == 1
#define TEST_TYPE_GOOD_ACCEL (test_good_accel_get_type())
G_DECLARE_FINAL_TYPE(TestGoodAccel, test_good_accel, TEST, GOOD_ACCEL, ArborAccel)

struct _TestGoodAccel {
  ArborAccel parent_instance;
};

G_DEFINE_DYNAMIC_TYPE(TestGoodAccel, test_good_accel, ARBOR_TYPE_ACCEL)

static void
test_good_accel_class_init(TestGoodAccelClass *klass)
{
  ARBOR_ACCEL_CLASS(klass)->name = "testgood";
}

static void
test_good_accel_class_finalize(TestGoodAccelClass *klass)
{
}

static void
test_good_accel_init(TestGoodAccel *self)
{
}
#endif

G_MODULE_EXPORT guint
arbor_module_abi_version(void)
{
#if TEST_MODULE_KIND == 2
  return ARBOR_MODULE_ABI_VERSION + 1000;
#else
  return ARBOR_MODULE_ABI_VERSION;
#endif
}

#if TEST_MODULE_KIND != 3
G_MODULE_EXPORT void arbor_module_load(GTypeModule *module);

G_MODULE_EXPORT void
arbor_module_load(GTypeModule *module)
{
#if TEST_MODULE_KIND == 1
  test_good_accel_register_type(module);
  arbor_accel_register(TEST_TYPE_GOOD_ACCEL, "testgood", -10);
#endif
}
#endif

G_MODULE_EXPORT void
arbor_module_unload(GTypeModule *module)
{
}
