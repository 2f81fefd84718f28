/* The accelerator registry and plugin loading: built-in names, modules
 * loaded from ARBOR_MODULE_DIR, and every way a module can fail. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <arbor/arbor.h>

#include "accel-private.h"
#include "spin-accel.h"

static char *test_module_dir; /* build/tests/kvm: the test modules */
static char *accel_module_dir; /* build/accel: the real ones */

static void
set_module_dirs(const char *first, const char *second)
{
  g_autofree char *value = second != NULL ? g_strjoin(":", first, second, NULL) : g_strdup(first);

  g_setenv("ARBOR_MODULE_DIR", value, TRUE);
}

static void
test_names(void)
{
  g_autoptr(GError) error = NULL;
  static const char *const bad[] = { "", "KVM", "../kvm", "a/b", "..", "kvm.so", "x y", "k\xc3\xa9" };

  g_assert_true(arbor_accel_name_is_valid("kvm"));
  g_assert_true(arbor_accel_name_is_valid("my_accel-2"));
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_false(arbor_accel_name_is_valid(bad[i]));
    g_assert_null(arbor_accel_new(bad[i], &error));
    g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_INVALID);
    g_clear_error(&error);
  }
}

static void
test_builtin(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborAccel) accel = NULL;
  g_auto(GStrv) names = NULL;

  arbor_accel_register(SPIN_TYPE_ACCEL, "spin", -100);
  accel = arbor_accel_new("spin", &error);
  g_assert_no_error(error);
  g_assert_true(SPIN_IS_ACCEL(accel));
  g_assert_cmpstr(arbor_accel_get_name(accel), ==, "spin");
  g_assert_null(arbor_accel_get_machine(accel));
  names = arbor_accel_list_registered();
  g_assert_true(g_strv_contains((const char *const *)names, "spin"));
}

static void
test_missing(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = g_build_filename(test_module_dir, "accel-nosuch.so", NULL);

  set_module_dirs(test_module_dir, NULL);
  g_assert_null(arbor_accel_new("nosuch", &error));
  g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, expected));
  g_assert_nonnull(strstr(error->message, "ARBOR_MODULE_DIR"));
}

static void
expect_module_error(const char *name, int code, const char *reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_strdup_printf("accel-%s.so", name);

  g_assert_null(arbor_accel_new(name, &error));
  g_assert_error(error, ARBOR_ERROR, code);
  g_test_message("%s: %s", name, error->message);
  g_assert_nonnull(strstr(error->message, path));
  g_assert_nonnull(strstr(error->message, reason));
  /* A second attempt fails the same way (no crash, no duplicate types). */
  g_clear_error(&error);
  g_assert_null(arbor_accel_new(name, &error));
  g_assert_error(error, ARBOR_ERROR, code);
}

static void
test_bad_abi(void)
{
  set_module_dirs(test_module_dir, NULL);
  expect_module_error("testbadabi", ARBOR_ERROR_MODULE, "built for module ABI");
}

static void
test_no_load(void)
{
  set_module_dirs(test_module_dir, NULL);
  expect_module_error("testnoload", ARBOR_ERROR_MODULE, "does not export arbor_module_load()");
}

static void
test_registers_nothing(void)
{
  set_module_dirs(test_module_dir, NULL);
  expect_module_error("testempty", ARBOR_ERROR_MODULE, "did not register the accelerator 'testempty'");
}

static void
test_not_a_library(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("arbor-modules-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *nosym = NULL;

  g_assert_no_error(error);
  path = g_build_filename(dir, "accel-garbage.so", NULL);
  g_assert_true(g_file_set_contents(path, "this is not an ELF file\n", -1, &error));
  /* A real library that is not an arbor module. */
  nosym = g_build_filename(dir, "accel-libm.so", NULL);
  g_assert_cmpint(symlink("/lib/x86_64-linux-gnu/libm.so.6", nosym), ==, 0);

  set_module_dirs(dir, NULL);
  expect_module_error("garbage", ARBOR_ERROR_MODULE, "cannot load module");
  expect_module_error("libm", ARBOR_ERROR_MODULE, "does not export arbor_module_abi_version()");

  g_unlink(path);
  g_unlink(nosym);
  g_rmdir(dir);
}

static void
test_good_module(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborAccel) first = NULL;
  g_autoptr(ArborAccel) second = NULL;
  g_auto(GStrv) names = NULL;

  /* The first directory lacks it: the search goes on to the second. */
  set_module_dirs("/nonexistent-arbor-dir", test_module_dir);
  first = arbor_accel_new("testgood", &error);
  g_assert_no_error(error);
  g_assert_nonnull(first);
  g_assert_cmpstr(arbor_accel_get_name(first), ==, "testgood");
  g_assert_cmpstr(G_OBJECT_TYPE_NAME(first), ==, "TestGoodAccel");
  names = arbor_accel_list_registered();
  g_assert_true(g_strv_contains((const char *const *)names, "testgood"));
  /* Now registered: no second load. */
  g_setenv("ARBOR_MODULE_DIR", "/nonexistent-arbor-dir", TRUE);
  second = arbor_accel_new("testgood", &error);
  g_assert_no_error(error);
  g_assert_true(G_OBJECT_TYPE(first) == G_OBJECT_TYPE(second));
  /* Dropping every instance does not unload the module's type. */
  g_clear_object(&first);
  g_clear_object(&second);
  first = arbor_accel_new("testgood", &error);
  g_assert_no_error(error);
  g_assert_nonnull(first);
}

static gboolean
kvm_device_missing(void)
{
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  int err = errno;

  if (fd >= 0) {
    close(fd);
    return FALSE;
  }
  return err == ENOENT || err == ENODEV || err == ENXIO;
}

/* The real accel-kvm.so loads anywhere; only init_machine needs /dev/kvm. */
static void
test_kvm_module(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborAccel) accel = NULL;
  g_autoptr(ArborMachine) machine = NULL;
  gboolean irqchip = TRUE;

  set_module_dirs(test_module_dir, accel_module_dir);
  accel = arbor_accel_new("kvm", &error);
  g_assert_no_error(error);
  g_assert_nonnull(accel);
  g_assert_cmpstr(arbor_accel_get_name(accel), ==, "kvm");
  g_assert_cmpstr(G_OBJECT_TYPE_NAME(accel), ==, "ArborKvmAccel");
  g_object_get(accel, "irqchip", &irqchip, NULL);
  g_assert_false(irqchip);

  machine = arbor_machine_new(2 * 1024 * 1024, 1, NULL, &error);
  g_assert_no_error(error);
  if (kvm_device_missing()) {
    g_assert_false(arbor_accel_init_machine(accel, machine, &error));
    g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_SUPPORTED);
    g_assert_cmpstr(error->message, ==,
                    "KVM is not available: /dev/kvm is missing (load kvm-intel/kvm-amd or enable nested "
                    "virtualization)");
    /* Through the machine, the same error and no vCPU. */
    g_clear_object(&accel);
    accel = arbor_accel_new("kvm", NULL);
    g_clear_error(&error);
    g_assert_false(arbor_machine_set_accel(machine, accel, &error));
    g_assert_error(error, ARBOR_ERROR, ARBOR_ERROR_NOT_SUPPORTED);
    g_assert_null(arbor_machine_get_vcpu_manager(machine));
  } else {
    g_assert_true(arbor_accel_init_machine(accel, machine, &error));
    g_assert_no_error(error);
  }
}

/* With no name: the highest priority of what is registered or loadable. */
static void
test_default(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborAccel) accel = NULL;

  set_module_dirs(test_module_dir, accel_module_dir);
  accel = arbor_accel_new(NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(arbor_accel_get_name(accel), ==, "kvm");
}

int
main(int argc, char **argv)
{
  const char *env_dir;

  g_test_init(&argc, &argv, NULL);

  test_module_dir = g_test_build_filename(G_TEST_BUILT, "kvm", NULL);
  env_dir = g_getenv("ARBOR_MODULE_DIR");
  accel_module_dir = g_strdup(env_dir != NULL ? env_dir : arbor_accel_get_module_dir());

  g_test_add_func("/accel/registry/names", test_names);
  g_test_add_func("/accel/registry/builtin", test_builtin);
  g_test_add_func("/accel/module/missing", test_missing);
  g_test_add_func("/accel/module/bad-abi", test_bad_abi);
  g_test_add_func("/accel/module/no-load-symbol", test_no_load);
  g_test_add_func("/accel/module/registers-nothing", test_registers_nothing);
  g_test_add_func("/accel/module/not-a-library", test_not_a_library);
  g_test_add_func("/accel/module/good", test_good_module);
  g_test_add_func("/accel/module/kvm", test_kvm_module);
  g_test_add_func("/accel/registry/default", test_default);
  return g_test_run();
}
