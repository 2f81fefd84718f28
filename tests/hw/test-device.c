/* The device registry and -device option parsing, good and bad input. */
#include <arbor/arbor.h>

#include <string.h>

/* A device type with one property of every parsed type. */
typedef enum {
  TEST_MODE_FAST,
  TEST_MODE_SLOW,
} TestMode;

static GType
test_mode_get_type(void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    {TEST_MODE_FAST, "TEST_MODE_FAST", "fast"},
    {TEST_MODE_SLOW, "TEST_MODE_SLOW", "slow"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("TestMode", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

#define TEST_TYPE_DEVICE (test_device_get_type())
G_DECLARE_FINAL_TYPE(TestDevice, test_device, TEST, DEVICE, ArborDevice)

struct _TestDevice {
  ArborDevice parent_instance;
  int i;
  guint u;
  gint64 i64;
  guint64 u64;
  gboolean flag;
  char *name;
  TestMode mode;
};

G_DEFINE_FINAL_TYPE(TestDevice, test_device, ARBOR_TYPE_DEVICE)

enum { PROP_0, PROP_I, PROP_U, PROP_I64, PROP_U64, PROP_FLAG, PROP_NAME, PROP_MODE, PROP_OBJ, N_PROPS };

static void
test_device_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  TestDevice *d = TEST_DEVICE(object);
  switch (id) {
  case PROP_I: d->i = g_value_get_int(value); break;
  case PROP_U: d->u = g_value_get_uint(value); break;
  case PROP_I64: d->i64 = g_value_get_int64(value); break;
  case PROP_U64: d->u64 = g_value_get_uint64(value); break;
  case PROP_FLAG: d->flag = g_value_get_boolean(value); break;
  case PROP_NAME: g_free(d->name); d->name = g_value_dup_string(value); break;
  case PROP_MODE: d->mode = g_value_get_enum(value); break;
  case PROP_OBJ: break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void
test_device_finalize(GObject *object)
{
  g_free(TEST_DEVICE(object)->name);
  G_OBJECT_CLASS(test_device_parent_class)->finalize(object);
}

static void
test_device_class_init(TestDeviceClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GParamFlags f = G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS;

  oc->set_property = test_device_set_property;
  oc->finalize = test_device_finalize;
  ARBOR_DEVICE_CLASS(klass)->device_name = "test-device";
  g_object_class_install_property(oc, PROP_I, g_param_spec_int("i", NULL, NULL, -100, 100, 0, f));
  g_object_class_install_property(oc, PROP_U, g_param_spec_uint("u", NULL, NULL, 0, 0xffff, 0, f));
  g_object_class_install_property(oc, PROP_I64, g_param_spec_int64("i64", NULL, NULL, G_MININT64, G_MAXINT64, 0, f));
  g_object_class_install_property(oc, PROP_U64, g_param_spec_uint64("u64", NULL, NULL, 0, G_MAXUINT64, 0, f));
  g_object_class_install_property(oc, PROP_FLAG, g_param_spec_boolean("flag", NULL, NULL, FALSE, f));
  g_object_class_install_property(oc, PROP_NAME, g_param_spec_string("name", NULL, NULL, NULL, f));
  g_object_class_install_property(oc, PROP_MODE,
                                  g_param_spec_enum("mode", NULL, NULL, test_mode_get_type(), TEST_MODE_FAST, f));
  g_object_class_install_property(oc, PROP_OBJ, g_param_spec_object("obj", NULL, NULL, G_TYPE_OBJECT, f));
}

static void
test_device_init(TestDevice *d)
{
}

static void
test_registry(void)
{
  g_auto(GStrv) names = arbor_device_list_names();
  const char *expected[] = {"i8042", "isa-debug-exit", "isa-serial", "legacy-stubs", "port92", "test-device"};

  g_assert_cmpuint(g_strv_length(names), ==, G_N_ELEMENTS(expected));
  for (guint i = 0; i < G_N_ELEMENTS(expected); i++)
    g_assert_cmpstr(names[i], ==, expected[i]);
  g_assert_true(arbor_device_type_from_name("test-device") == TEST_TYPE_DEVICE);
  g_assert_true(arbor_device_type_from_name("isa-serial") != G_TYPE_INVALID);
  g_assert_true(arbor_device_type_from_name("no-such-device") == G_TYPE_INVALID);
}

static void
test_options_good(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborDevice) dev = arbor_device_new_from_options(
    "test-device,i=-5,u=0x1f,i64=-0x10,u64=18446744073709551615,flag=yes,name=a,,b,,,mode=slow,id=t0", &error);

  g_assert_no_error(error);
  g_assert_nonnull(dev);
  TestDevice *d = TEST_DEVICE(dev);
  g_assert_cmpint(d->i, ==, -5);
  g_assert_cmpuint(d->u, ==, 0x1f);
  g_assert_cmpint(d->i64, ==, -16);
  g_assert_cmpuint(d->u64, ==, G_MAXUINT64);
  g_assert_true(d->flag);
  g_assert_cmpstr(d->name, ==, "a,b,");
  g_assert_cmpint(d->mode, ==, TEST_MODE_SLOW);
  g_assert_cmpstr(arbor_device_get_id(dev), ==, "t0");
  g_assert_false(arbor_device_is_realized(dev));

  const struct {
    const char *text;
    gboolean value;
  } bools[] = {{"on", TRUE}, {"off", FALSE}, {"true", TRUE}, {"false", FALSE}, {"yes", TRUE}, {"no", FALSE}};
  for (guint i = 0; i < G_N_ELEMENTS(bools); i++) {
    g_autofree char *opts = g_strdup_printf("test-device,flag=%s", bools[i].text);
    g_autoptr(ArborDevice) b = arbor_device_new_from_options(opts, &error);
    g_assert_no_error(error);
    g_assert_cmpint(TEST_DEVICE(b)->flag, ==, bools[i].value);
  }
  /* A bare boolean key means on; octal like strtoull(, 0). */
  g_autoptr(ArborDevice) bare = arbor_device_new_from_options("test-device,flag,u=010", &error);
  g_assert_no_error(error);
  g_assert_true(TEST_DEVICE(bare)->flag);
  g_assert_cmpuint(TEST_DEVICE(bare)->u, ==, 8);

  g_autoptr(ArborDevice) exitdev = arbor_device_new_from_options("isa-debug-exit,iobase=0xf4,iosize=0x04", &error);
  g_assert_no_error(error);
  guint iobase = 0, iosize = 0;
  g_object_get(exitdev, "iobase", &iobase, "iosize", &iosize, NULL);
  g_assert_cmpuint(iobase, ==, 0xf4);
  g_assert_cmpuint(iosize, ==, 4);

  g_autoptr(ArborDevice) serial = arbor_device_new_from_options("isa-serial,chardev=file:/tmp/x,,y", &error);
  g_assert_no_error(error);
  g_autofree char *spec = NULL;
  g_object_get(serial, "chardev", &spec, NULL);
  g_assert_cmpstr(spec, ==, "file:/tmp/x,y");
}

static void
test_options_bad(void)
{
  const struct {
    const char *options;
    int code;
    const char *needle; /* must appear in the message */
  } cases[] = {
    {"", ARBOR_ERROR_INVALID, "missing device name"},
    {",u=1", ARBOR_ERROR_INVALID, "missing device name"},
    {"nosuch", ARBOR_ERROR_NOT_FOUND, "isa-serial"},
    {"nosuch,u=1", ARBOR_ERROR_NOT_FOUND, "'nosuch'"},
    {"test-device,bogus=1", ARBOR_ERROR_INVALID, "unknown property 'bogus'"},
    {"test-device,", ARBOR_ERROR_INVALID, "empty option"},
    {"test-device,=5", ARBOR_ERROR_INVALID, "empty option"},
    {"test-device,u=", ARBOR_ERROR_INVALID, "property 'u'"},
    {"test-device,u=0x10000", ARBOR_ERROR_INVALID, "0..65535"},
    {"test-device,u=-1", ARBOR_ERROR_INVALID, "unsigned integer"},
    {"test-device,u=12abc", ARBOR_ERROR_INVALID, "'12abc'"},
    {"test-device,u= 12", ARBOR_ERROR_INVALID, "property 'u'"},
    {"test-device,u", ARBOR_ERROR_INVALID, "needs a value"},
    {"test-device,i=101", ARBOR_ERROR_INVALID, "-100..100"},
    {"test-device,i=-101", ARBOR_ERROR_INVALID, "-100..100"},
    {"test-device,i64=9223372036854775808", ARBOR_ERROR_INVALID, "property 'i64'"},
    {"test-device,u64=18446744073709551616", ARBOR_ERROR_INVALID, "property 'u64'"},
    {"test-device,flag=maybe", ARBOR_ERROR_INVALID, "on/off"},
    {"test-device,flag=", ARBOR_ERROR_INVALID, "property 'flag'"},
    {"test-device,mode=medium", ARBOR_ERROR_INVALID, "fast, slow"},
    {"test-device,obj=x", ARBOR_ERROR_INVALID, "cannot be set"},
    {"test-device,u=1,u=2", ARBOR_ERROR_INVALID, "more than once"},
    {"isa-debug-exit,iobase=0x10000", ARBOR_ERROR_INVALID, "iobase"},
    {"isa-serial,irq=24", ARBOR_ERROR_INVALID, "irq"},
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    ArborDevice *dev = arbor_device_new_from_options(cases[i].options, &error);
    g_test_message("'%s' -> %s", cases[i].options, error != NULL ? error->message : "(no error)");
    g_assert_null(dev);
    g_assert_error(error, ARBOR_ERROR, cases[i].code);
    g_assert_nonnull(strstr(error->message, cases[i].needle));
  }
}

static void
test_realize_errors(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ArborMachine) machine = arbor_machine_new(16 * 1024 * 1024, 1, NULL, &error);
  g_assert_no_error(error);

  const char *bad[] = {
    "isa-debug-exit,iosize=3",
    "isa-debug-exit,iosize=0",
    "isa-debug-exit,iobase=0xffff,iosize=2",
    "isa-serial,index=4",
    "isa-serial,chardev=bogus",
    "isa-serial,chardev=file:",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(ArborDevice) dev = arbor_device_new_from_options(bad[i], &error);
    g_assert_no_error(error);
    g_assert_false(arbor_machine_add_device(machine, dev, &error));
    g_test_message("'%s' -> %s", bad[i], error->message);
    g_assert_error(error, ARBOR_ERROR, error->code);
    g_assert_false(arbor_device_is_realized(dev));
    g_clear_error(&error);
  }
  g_assert_cmpuint(arbor_machine_get_devices(machine)->len, ==, 0);

  /* index picks the standard COM ports. */
  g_autoptr(ArborDevice) com2 = arbor_device_new_from_options("isa-serial,index=1", &error);
  g_assert_true(arbor_machine_add_device(machine, com2, &error));
  g_assert_no_error(error);
  guint iobase = 0, irq = 0;
  g_object_get(com2, "iobase", &iobase, "irq", &irq, NULL);
  g_assert_cmpuint(iobase, ==, 0x2f8);
  g_assert_cmpuint(irq, ==, 3);
  g_assert_true(arbor_device_get_machine(com2) == machine);
  g_assert_nonnull(arbor_device_get_id(com2));
  arbor_machine_shutdown(machine);
  g_assert_false(arbor_device_is_realized(com2));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  arbor_device_class_register(TEST_TYPE_DEVICE);
  g_test_add_func("/device/registry", test_registry);
  g_test_add_func("/device/options/good", test_options_good);
  g_test_add_func("/device/options/bad", test_options_bad);
  g_test_add_func("/device/realize-errors", test_realize_errors);
  return g_test_run();
}
