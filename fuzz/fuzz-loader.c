/* fuzz-loader: arbitrary bytes as a kernel image for each loader.
 *
 * Every input goes through each format's parser on its own (Multiboot v1
 * with ELF32 or a.out kludge, ELF64, so that an image that has a Multiboot
 * header still reaches the ELF64 parser), then through the whole public
 * path: arbor_loader_load_kernel() (format detection, validation, writing
 * into RAM, vCPU 0's entry state) and arbor_loader_load_flat(), then a
 * restore (what a machine reset does). The image is handed over as a file,
 * as -kernel does, through a memfd so nothing touches the disk.
 *
 * First input byte: flags (bit 0: also pass the tail as a Multiboot module;
 * bits 1-2: flat entry mode; bit 3: flat load sets the entry). Next 8 bytes:
 * the flat load address. The rest: the image.
 */
#include "arbor-config.h"

#include <arbor/arbor.h>

#include "fuzz-util.h"
#include "loader-private.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_RAM_SIZE (32 * 1024 * 1024)

typedef struct {
  ArborMachine *machine; /* owned */
  GMainContext *context; /* owned */
} FuzzLoader;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FuzzLoader *
fuzz_get(void)
{
  /* Created once in LLVMFuzzerInitialize; libFuzzer is single-threaded. */
  static FuzzLoader fuzz;
  return &fuzz;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  FuzzLoader *f = fuzz_get();

  /* Bad images are external input: they must give a GError, never trip an
   * internal g_return_if_fail (fuzz_new_qtest_machine makes those fatal). */
  f->context = g_main_context_new();
  f->machine = fuzz_new_qtest_machine("fuzz-loader", FUZZ_RAM_SIZE, f->context);
  return 0;
}

/* A file holding @data, named /proc/self/fd/N. Returns the fd (close it). */
static int
memfile(const guint8 *data, gsize len, char *path, gsize path_len)
{
  int fd = memfd_create("fuzz-image", MFD_CLOEXEC);
  gsize done = 0;

  if (fd < 0) {
    perror("memfd_create");
    abort();
  }
  while (done < len) {
    ssize_t n = write(fd, data + done, len - done);
    if (n <= 0) {
      perror("write memfd");
      abort();
    }
    done += (gsize) n;
  }
  g_snprintf(path, path_len, "/proc/self/fd/%d", fd);
  return fd;
}

static void
check_error(GError *error, const char *what)
{
  /* A failure must say why, in the loader's domain (or a file error). */
  if (error == NULL) {
    fprintf(stderr, "fuzz-loader: %s failed without a GError\n", what);
    abort();
  }
  if (error->message == NULL || error->message[0] == '\0') {
    fprintf(stderr, "fuzz-loader: %s failed with an empty message\n", what);
    abort();
  }
}

static void
fuzz_parsers(GBytes *image, const ArborLoaderOptions *opts)
{
  ArborLoaderPlan plan;
  g_autoptr(GError) error = NULL;
  guint64 low = 0, high = 0, entry = 0;

  arbor_loader_plan_init(&plan, FUZZ_RAM_SIZE, opts->kernel);
  if (!arbor_loader_plan_multiboot(&plan, image, opts, &error) && error != NULL)
    check_error(error, "multiboot parser");
  arbor_loader_plan_clear(&plan);
  g_clear_error(&error);

  arbor_loader_plan_init(&plan, FUZZ_RAM_SIZE, opts->kernel);
  if (!arbor_loader_plan_elf64(&plan, image, &error))
    check_error(error, "elf64 parser");
  arbor_loader_plan_clear(&plan);
  g_clear_error(&error);

  arbor_loader_plan_init(&plan, FUZZ_RAM_SIZE, opts->kernel);
  if (!arbor_loader_plan_elf32_segments(&plan, image, &low, &high, &entry, &error))
    check_error(error, "elf32 parser");
  arbor_loader_plan_clear(&plan);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  FuzzLoader *f = fuzz_get();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) image = NULL;
  g_autoptr(ArborLoader) loader = NULL;
  g_autoptr(ArborLoader) flat = NULL;
  ArborLoaderOptions opts = { 0 };
  char kpath[64], mpath[64], initrd[96];
  int kfd, mfd = -1;
  guint8 flags;
  guint64 flat_addr = 0;
  gsize klen;

  if (size < 9)
    return 0;
  flags = data[0];
  for (int i = 0; i < 8; i++)
    flat_addr |= (guint64) data[1 + i] << (8 * i);
  data += 9;
  size -= 9;
  /* Addresses mostly inside or near RAM, sometimes anywhere. */
  if ((flags & 0x80) == 0)
    flat_addr %= (guint64) FUZZ_RAM_SIZE * 2;

  klen = size;
  if ((flags & 1) && size >= 16) {
    klen = size - size / 4;
    mfd = memfile(data + klen, size - klen, mpath, sizeof(mpath));
    g_snprintf(initrd, sizeof(initrd), "%s mod-arg", mpath);
    opts.initrd = initrd;
  }
  kfd = memfile(data, klen, kpath, sizeof(kpath));
  opts.kernel = kpath;
  opts.append = "console=ttyS0 fuzz";

  image = g_bytes_new(data, klen);
  fuzz_parsers(image, &opts);

  loader = arbor_loader_new(f->machine);
  if (arbor_loader_load_kernel(loader, &opts, &error)) {
    if (arbor_loader_get_format(loader) == ARBOR_LOADER_FORMAT_NONE) {
      fprintf(stderr, "fuzz-loader: loaded, but format NONE\n");
      abort();
    }
    (void) arbor_loader_format_name(arbor_loader_get_format(loader));
    (void) arbor_loader_get_entry(loader);
    g_clear_error(&error);
    if (!arbor_loader_restore(loader, &error)) {
      fprintf(stderr, "fuzz-loader: a loaded image failed to restore: %s\n", error->message);
      abort();
    }
  } else {
    check_error(error, "load_kernel");
  }
  g_clear_error(&error);

  flat = arbor_loader_new(f->machine);
  if (!arbor_loader_load_flat(flat, kpath, flat_addr, (flags & 8) != 0,
                              (ArborLoaderMode) ((flags >> 1) & 3) % 3, &error))
    check_error(error, "load_flat");
  g_clear_error(&error);

  close(kfd);
  if (mfd >= 0)
    close(mfd);
  for (int i = 0; i < 100 && g_main_context_iteration(f->context, FALSE); i++)
    ;
  return 0;
}
