/* GPUs without CDI: the driver found as enroot and Apptainer's --nv find it (docs/
   architecture.md, "Devices and GPUs"). NVIDIA: /dev/nvidia[0-9]*, the control nodes, the
   driver's user-space libraries from the dynamic linker's cache and its tools, bound
   read-only under /usr/local/nvidia (the directory CUDA images already search). AMD:
   /dev/kfd and /dev/dri. $RRUN_GPU_ROOT prefixes every host path (tests use a fake tree). */
#include "device/device.h"
#include "error.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NV_LIB_DIR "/usr/local/nvidia/lib64"
#define NV_BIN_DIR "/usr/local/nvidia/bin"

/* The driver's libraries, as Apptainer's nvliblist.conf lists them, without the
   vendor-neutral GL dispatch libraries an image brings itself. */
static const char *const nv_libs[] = {
  "libcuda.so", "libcudadebugger.so", "libnvidia-ml.so", "libnvidia-ptxjitcompiler.so",
  "libnvidia-nvvm.so", "libnvidia-opencl.so", "libnvidia-compiler.so", "libnvidia-cfg.so",
  "libnvidia-allocator.so", "libnvidia-encode.so", "libnvidia-opticalflow.so",
  "libnvcuvid.so", "libnvidia-fbc.so", "libnvidia-ifr.so", "libnvidia-rtcore.so",
  "libnvoptix.so", "libnvidia-glcore.so", "libnvidia-tls.so", "libnvidia-glsi.so",
  "libnvidia-glvkspirv.so", "libnvidia-eglcore.so", "libnvidia-gpucomp.so",
  "libEGL_nvidia.so", "libGLX_nvidia.so", "libGLESv1_CM_nvidia.so", "libGLESv2_nvidia.so",
  "libvdpau_nvidia.so", "libnvidia-fatbinaryloader.so", "libnvidia-cbl.so",
  "libnvidia-pkcs11.so", NULL,
};

static const char *const nv_bins[] = {
  "nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control",
  "nvidia-cuda-mps-server", NULL,
};

const char *
rrun_gpu_root (void)
{
  const char *root = g_getenv ("RRUN_GPU_ROOT");

  return root ? root : "";
}

/* ---- --gpus ------------------------------------------------------------------------------ */

void
rrun_gpu_request_clear (RrunGpuRequest *r)
{
  g_strfreev (r->ids);
  memset (r, 0, sizeof *r);
}

static gboolean
parse_count (const char *s, int *out)
{
  char *end = NULL;
  gint64 n;

  if (!g_ascii_isdigit (*s))
    return FALSE;
  n = g_ascii_strtoll (s, &end, 10);
  if (*end != '\0' || n < 1 || n > 1024)
    return FALSE;
  *out = (int) n;
  return TRUE;
}

static gboolean
bad_gpus (GError **error, const char *value, const char *why)
{
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --gpus \"%s\": %s", value, why);
  rrun_add_hint (error, "--gpus all, --gpus 2 (the first two), --gpus device=0,1 or "
                        "--gpus '\"device=GPU-UUID\"'");
  return FALSE;
}

/* docker's syntax: a CSV list of all, N, count=, device=, capabilities=, driver=; a
   quoted field may hold commas ("device=0,1"). */
gboolean
rrun_gpu_request_parse (const char *value, RrunGpuRequest *out, GError **error)
{
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  RrunGpuRequest r = { 0 };
  const char *p = value;

  if (*value == '\0')
    return bad_gpus (error, value, "empty");
  while (*p)
    {
      g_autoptr(GString) f = g_string_new (NULL);
      gboolean quoted = FALSE;

      for (; *p && (quoted || *p != ','); p++)
        {
          if (*p == '"')
            quoted = !quoted;
          else
            g_string_append_c (f, *p);
        }
      if (quoted)
        return bad_gpus (error, value, "an unclosed quote");
      g_ptr_array_add (fields, g_string_free (g_steal_pointer (&f), FALSE));
      if (*p == ',')
        p++;
    }
  for (guint i = 0; i < fields->len; i++)
    {
      const char *f = fields->pdata[i];

      if (strcmp (f, "all") == 0 || strcmp (f, "count=all") == 0)
        r.all = TRUE;
      else if (parse_count (f, &r.count))
        ;
      else if (g_str_has_prefix (f, "count="))
        {
          if (!parse_count (f + 6, &r.count))
            {
              rrun_gpu_request_clear (&r);
              return bad_gpus (error, value, "count must be a number from 1 or all");
            }
        }
      else if (g_str_has_prefix (f, "device="))
        {
          g_auto(GStrv) ids = g_strsplit (f + 7, ",", -1);

          for (guint k = 0; ids[k]; k++)
            if (*g_strstrip (ids[k]) == '\0')
              {
                rrun_gpu_request_clear (&r);
                return bad_gpus (error, value, "an empty device");
              }
          if (ids[0] == NULL)
            {
              rrun_gpu_request_clear (&r);
              return bad_gpus (error, value, "no device");
            }
          g_strfreev (r.ids);
          r.ids = g_steal_pointer (&ids);
        }
      else if (g_str_has_prefix (f, "capabilities=") || strcmp (f, "driver=nvidia") == 0)
        ; /* every capability: the driver's libraries are all bound */
      else
        {
          g_autofree char *why = g_strdup_printf ("unknown field \"%s\"", f);
          rrun_gpu_request_clear (&r);
          return bad_gpus (error, value, why);
        }
    }
  if ((r.all ? 1 : 0) + (r.count > 0 ? 1 : 0) + (r.ids ? 1 : 0) > 1)
    {
      rrun_gpu_request_clear (&r);
      return bad_gpus (error, value, "give one of all, a count or device=");
    }
  if (!r.all && r.count == 0 && r.ids == NULL)
    {
      rrun_gpu_request_clear (&r);
      return bad_gpus (error, value, "no GPU asked for");
    }
  *out = r;
  return TRUE;
}

/* ---- the machine's GPUs --------------------------------------------------------------- */

void
rrun_gpu_free (RrunGpu *g)
{
  if (g == NULL)
    return;
  g_free (g->vendor);
  g_free (g->node);
  g_free (g->uuid);
  g_free (g);
}

static gboolean
is_char_device (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 && S_ISCHR (st.st_mode);
}

static int
compare_gpus (gconstpointer a, gconstpointer b)
{
  const RrunGpu *x = *(RrunGpu *const *) a, *y = *(RrunGpu *const *) b;
  int v = strcmp (x->vendor, y->vendor);

  if (v != 0)
    return -v; /* nvidia before amd */
  return x->index - y->index;
}

/* UUIDs by minor number, from /proc/driver/nvidia/gpus/BUS/information. */
static GHashTable *
nvidia_uuids (const char *root)
{
  g_autofree char *dirpath = g_strconcat (root, "/proc/driver/nvidia/gpus", NULL);
  g_autoptr(GDir) dir = g_dir_open (dirpath, 0, NULL);
  GHashTable *uuids = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  const char *bus;

  while (dir && (bus = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (dirpath, bus, "information", NULL);
      g_autofree char *text = NULL;
      g_auto(GStrv) lines = NULL;
      int minor = -1;
      char *uuid = NULL;

      if (!g_file_get_contents (file, &text, NULL, NULL))
        continue;
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 0; lines[i]; i++)
        {
          char *colon = strchr (lines[i], ':');

          if (colon == NULL)
            continue;
          *colon = '\0';
          if (strcmp (g_strstrip (lines[i]), "Device Minor") == 0)
            minor = atoi (colon + 1);
          else if (strcmp (lines[i], "GPU UUID") == 0)
            {
              g_free (uuid);
              uuid = g_strdup (g_strstrip (colon + 1));
            }
        }
      if (minor >= 0 && uuid != NULL)
        g_hash_table_insert (uuids, GINT_TO_POINTER (minor), uuid);
      else
        g_free (uuid);
    }
  return uuids;
}

static void
list_dir_nodes (const char *root, const char *dir_rel, const char *prefix, const char *vendor,
                GPtrArray *out)
{
  g_autofree char *dirpath = g_strconcat (root, dir_rel, NULL);
  g_autoptr(GDir) dir = g_dir_open (dirpath, 0, NULL);
  g_autoptr(GHashTable) uuids = strcmp (vendor, "nvidia") == 0 ? nvidia_uuids (root) : NULL;
  const char *name;

  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      const char *num = name + strlen (prefix);
      g_autofree char *path = NULL;
      RrunGpu *g;

      if (!g_str_has_prefix (name, prefix) || *num == '\0'
          || strspn (num, "0123456789") != strlen (num))
        continue;
      path = g_build_filename (dirpath, name, NULL);
      if (!is_char_device (path))
        continue;
      g = g_new0 (RrunGpu, 1);
      g->vendor = g_strdup (vendor);
      g->node = g_build_filename (dir_rel, name, NULL);
      g->index = atoi (num);
      if (uuids)
        g->uuid = g_strdup (g_hash_table_lookup (uuids, GINT_TO_POINTER (g->index)));
      g_ptr_array_add (out, g);
    }
}

GPtrArray *
rrun_gpu_list (void)
{
  const char *root = rrun_gpu_root ();
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_gpu_free);
  g_autofree char *kfd = g_strconcat (root, "/dev/kfd", NULL);

  list_dir_nodes (root, "/dev", "nvidia", "nvidia", out);
  if (is_char_device (kfd))
    list_dir_nodes (root, "/dev/dri", "renderD", "amd", out);
  g_ptr_array_sort (out, compare_gpus);
  return out;
}

/* ---- the dynamic linker's cache ------------------------------------------------------- */

#define CACHE_MAGIC "glibc-ld.so.cache1.1"
#if defined(__x86_64__)
#define CACHE_ARCH 0x0300
#elif defined(__aarch64__)
#define CACHE_ARCH 0x0a00
#elif defined(__powerpc64__)
#define CACHE_ARCH 0x0500
#else
#define CACHE_ARCH -1
#endif

/* glibc's new format (the only one since 2.32; after the old one before that): a 48-byte
   header, nlibs entries of 24 bytes {flags, key, value, osversion, hwcap}, then the
   strings; offsets count from the header. Pairs of (name, path) for this machine's ABI. */
gboolean
rrun_gpu_ld_cache_parse (const char *data, gsize len, GPtrArray *out, GError **error)
{
  const char *start = memmem (data, len, CACHE_MAGIC, strlen (CACHE_MAGIC));
  gsize base, n;
  uint32_t nlibs;

  if (start == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "not a glibc ld.so.cache (format 1.1)");
  base = (gsize) (start - data);
  if (len - base < 48)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "truncated ld.so.cache");
  memcpy (&nlibs, data + base + 20, sizeof nlibs);
  n = nlibs;
  if (n > (len - base - 48) / 24)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "truncated ld.so.cache");
  for (gsize i = 0; i < n; i++)
    {
      const char *entry = data + base + 48 + i * 24;
      int32_t flags;
      uint32_t key, value;

      memcpy (&flags, entry, 4);
      memcpy (&key, entry + 4, 4);
      memcpy (&value, entry + 8, 4);
      if ((flags & 0xff) != 0x03 /* FLAG_ELF_LIBC6 */)
        continue;
      if (CACHE_ARCH >= 0 && (flags & 0xff00) != CACHE_ARCH)
        continue;
      if (base + key >= len || base + value >= len
          || memchr (data + base + key, '\0', len - base - key) == NULL
          || memchr (data + base + value, '\0', len - base - value) == NULL)
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "ld.so.cache: a string out of bounds");
      g_ptr_array_add (out, g_strdup (data + base + key));
      g_ptr_array_add (out, g_strdup (data + base + value));
    }
  return TRUE;
}

static gboolean
wanted_lib (const char *name)
{
  for (guint i = 0; nv_libs[i]; i++)
    if (g_str_has_prefix (name, nv_libs[i])
        && (name[strlen (nv_libs[i])] == '\0' || name[strlen (nv_libs[i])] == '.'))
      return TRUE;
  return FALSE;
}

/* The driver's libraries: (name, host path) pairs, from the cache, else from the usual
   library dirs (a root without a cache: a test tree, or ldconfig never run). */
static void
find_nvidia_libs (const char *root, GPtrArray *pairs)
{
  static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
                                      "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64",
                                      "/usr/lib", NULL };
  g_autofree char *cache = g_strconcat (root, "/etc/ld.so.cache", NULL);
  g_autofree char *data = NULL;
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  gsize len;

  if (g_file_get_contents (cache, &data, &len, NULL)
      && rrun_gpu_ld_cache_parse (data, len, all, NULL))
    {
      for (guint i = 0; i + 1 < all->len; i += 2)
        if (wanted_lib (all->pdata[i]))
          {
            g_ptr_array_add (pairs, g_strdup (all->pdata[i]));
            g_ptr_array_add (pairs, g_strconcat (root, all->pdata[i + 1], NULL));
          }
      return;
    }
  for (guint d = 0; dirs[d]; d++)
    {
      g_autofree char *dirpath = g_strconcat (root, dirs[d], NULL);
      g_autoptr(GDir) dir = g_dir_open (dirpath, 0, NULL);
      const char *name;

      while (dir && (name = g_dir_read_name (dir)) != NULL)
        if (wanted_lib (name) && strstr (name, ".so.") != NULL)
          {
            g_ptr_array_add (pairs, g_strdup (name));
            g_ptr_array_add (pairs, g_build_filename (dirpath, name, NULL));
          }
    }
}

/* ---- discovery ------------------------------------------------------------------------ */

static gboolean
select_gpus (const char *what, const RrunGpuRequest *r, GPtrArray *gpus, GPtrArray *chosen,
             GError **error)
{
  if (r->all)
    {
      for (guint i = 0; i < gpus->len; i++)
        g_ptr_array_add (chosen, gpus->pdata[i]);
      return TRUE;
    }
  if (r->count > 0)
    {
      if ((guint) r->count > gpus->len)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                           "cannot use --gpus %d: the machine has %u %s GPU%s", r->count,
                           gpus->len, what, gpus->len == 1 ? "" : "s");
      for (int i = 0; i < r->count; i++)
        g_ptr_array_add (chosen, gpus->pdata[i]);
      return TRUE;
    }
  for (guint k = 0; r->ids[k]; k++)
    {
      const char *id = r->ids[k];
      RrunGpu *found = NULL;

      for (guint i = 0; i < gpus->len && found == NULL; i++)
        {
          RrunGpu *g = gpus->pdata[i];
          char *end = NULL;
          gint64 n = g_ascii_strtoll (id, &end, 10);

          if ((g_ascii_isdigit (*id) && *end == '\0' && n == (gint64) i)
              || (g->uuid && (g_ascii_strcasecmp (g->uuid, id) == 0
                              || (strlen (id) >= 8 && g_str_has_prefix (g->uuid, id)))))
            found = g;
        }
      if (found == NULL)
        {
          g_autoptr(GString) have = g_string_new (NULL);

          for (guint i = 0; i < gpus->len; i++)
            {
              RrunGpu *g = gpus->pdata[i];
              g_string_append_printf (have, "%s%u%s%s", i ? ", " : "", i, g->uuid ? " " : "",
                                      g->uuid ? g->uuid : "");
            }
          rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot use --gpus: no %s GPU \"%s\"", what,
                      id);
          rrun_add_hint (error, "this machine has: %s", have->str);
          return FALSE;
        }
      if (!g_ptr_array_find (chosen, found, NULL))
        g_ptr_array_add (chosen, found);
    }
  return TRUE;
}

static void
add_optional_node (const char *root, const char *rel, RrunDeviceEdits *e)
{
  g_autofree char *host = g_strconcat (root, rel, NULL);

  if (is_char_device (host))
    rrun_device_edits_add_node (e, host, rel);
}

static gboolean
discover_amd (const char *root, const RrunGpuRequest *r, GPtrArray *gpus, RrunDeviceEdits *e,
              GError **error)
{
  g_autoptr(GPtrArray) chosen = g_ptr_array_new ();
  g_autofree char *dri = g_strconcat (root, "/dev/dri", NULL);
  g_autoptr(GDir) dir = g_dir_open (dri, 0, NULL);
  const char *name;

  if (!select_gpus ("AMD", r, gpus, chosen, error))
    return FALSE;
  add_optional_node (root, "/dev/kfd", e);
  for (guint i = 0; i < chosen->len; i++)
    add_optional_node (root, ((RrunGpu *) chosen->pdata[i])->node, e);
  /* The card nodes (display): which render node is which card is not named here. */
  while (dir && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "card"))
      {
        g_autofree char *rel = g_strconcat ("/dev/dri/", name, NULL);
        add_optional_node (root, rel, e);
      }
  return TRUE;
}

/* Host NVIDIA_VISIBLE_DEVICES narrows --gpus all, as the NVIDIA container toolkit's does
   (a scheduler may set it for the job's GPUs). */
static gboolean
visible_devices (const RrunGpuRequest *r, RrunGpuRequest *narrowed)
{
  const char *v = g_getenv ("NVIDIA_VISIBLE_DEVICES");

  if (!r->all || v == NULL || strcmp (v, "all") == 0)
    return FALSE;
  memset (narrowed, 0, sizeof *narrowed);
  if (*v == '\0' || strcmp (v, "none") == 0 || strcmp (v, "void") == 0)
    narrowed->ids = g_new0 (char *, 1);
  else
    narrowed->ids = g_strsplit (v, ",", -1);
  return TRUE;
}

gboolean
rrun_gpu_discover (const RrunGpuRequest *request, RrunDeviceEdits *e, GError **error)
{
  const char *root = rrun_gpu_root ();
  g_autoptr(GPtrArray) all = rrun_gpu_list ();
  g_autoptr(GPtrArray) nvidia = g_ptr_array_new ();
  g_autoptr(GPtrArray) amd = g_ptr_array_new ();
  g_autoptr(GPtrArray) chosen = g_ptr_array_new ();
  g_autoptr(GPtrArray) libs = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *ctl = g_strconcat (root, "/dev/nvidiactl", NULL);
  g_autofree char *caps = g_strconcat (root, "/dev/nvidia-caps", NULL);
  RrunGpuRequest narrowed = { 0 };
  const RrunGpuRequest *r = request;
  gboolean ok;

  for (guint i = 0; i < all->len; i++)
    g_ptr_array_add (strcmp (((RrunGpu *) all->pdata[i])->vendor, "nvidia") == 0 ? nvidia : amd,
                     all->pdata[i]);
  if (nvidia->len == 0)
    {
      if (amd->len > 0)
        return discover_amd (root, request, amd, e, error);
      rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                  "--gpus: no NVIDIA device nodes in %s/dev (is the driver loaded?)", root);
      rrun_add_hint (error, "nor an AMD GPU (%s/dev/kfd); rrun info lists the GPUs it finds",
                     root);
      return FALSE;
    }
  if (!is_char_device (ctl))
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                       "--gpus: no NVIDIA control node %s (is the driver loaded?)", ctl);
  if (visible_devices (request, &narrowed))
    r = &narrowed;
  ok = r->ids == NULL || r->ids[0] != NULL ? select_gpus ("NVIDIA", r, nvidia, chosen, error)
                                            : TRUE;
  rrun_gpu_request_clear (&narrowed);
  if (!ok)
    return FALSE;
  for (guint i = 0; i < chosen->len; i++)
    {
      const RrunGpu *g = chosen->pdata[i];
      g_autofree char *host = g_strconcat (root, g->node, NULL);

      rrun_device_edits_add_node (e, host, g->node);
    }
  rrun_device_edits_add_node (e, ctl, "/dev/nvidiactl");
  add_optional_node (root, "/dev/nvidia-uvm", e);
  add_optional_node (root, "/dev/nvidia-uvm-tools", e);
  add_optional_node (root, "/dev/nvidia-modeset", e);
  {
    g_autofree char *uvm = g_strconcat (root, "/dev/nvidia-uvm", NULL);

    if (!is_char_device (uvm))
      g_ptr_array_add (e->notes,
                       g_strdup_printf ("--gpus: no %s: CUDA programs fail until it exists "
                                        "(nvidia-modprobe -u -c=0 makes it)", uvm));
  }
  {
    g_autoptr(GDir) dir = g_dir_open (caps, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *rel = g_strconcat ("/dev/nvidia-caps/", name, NULL);
        add_optional_node (root, rel, e);
      }
  }
  find_nvidia_libs (root, libs);
  for (guint i = 0; i + 1 < libs->len; i += 2)
    {
      g_autofree char *ctr = g_build_filename (NV_LIB_DIR, libs->pdata[i], NULL);
      rrun_device_edits_add_mount (e, libs->pdata[i + 1], ctr, FALSE, TRUE);
    }
  if (libs->len == 0)
    g_ptr_array_add (e->notes, g_strdup ("--gpus: no NVIDIA driver libraries (libcuda.so.1) "
                                         "in the dynamic linker's cache; only the device "
                                         "nodes are passed"));
  else
    g_ptr_array_add (e->ld_dirs, g_strdup (NV_LIB_DIR));
  for (guint i = 0; nv_bins[i]; i++)
    {
      static const char *const bindirs[] = { "/usr/bin", "/usr/local/bin", "/usr/sbin",
                                             "/bin", NULL };

      for (guint d = 0; bindirs[d]; d++)
        {
          g_autofree char *host = g_strconcat (root, bindirs[d], "/", nv_bins[i], NULL);

          if (g_file_test (host, G_FILE_TEST_IS_EXECUTABLE)
              && !g_file_test (host, G_FILE_TEST_IS_DIR))
            {
              g_autofree char *ctr = g_build_filename (NV_BIN_DIR, nv_bins[i], NULL);
              rrun_device_edits_add_mount (e, host, ctr, FALSE, TRUE);
              if (e->bin_dirs->len == 0)
                g_ptr_array_add (e->bin_dirs, g_strdup (NV_BIN_DIR));
              break;
            }
        }
    }
  {
    g_autofree char *sock = g_strconcat (root, "/run/nvidia-persistenced/socket", NULL);

    if (g_file_test (sock, G_FILE_TEST_EXISTS))
      rrun_device_edits_add_mount (e, sock, "/run/nvidia-persistenced/socket", FALSE, FALSE);
  }
  /* As the toolkit sets them in CUDA images; the images' own values stay otherwise. */
  {
    g_autoptr(GString) v = g_string_new (NULL);

    for (guint i = 0; i < chosen->len; i++)
      {
        const RrunGpu *g = chosen->pdata[i];
        g_string_append_printf (v, "%s%s", i ? "," : "", g->uuid ? g->uuid : g->node + 11);
      }
    g_ptr_array_add (e->env, g_strconcat ("NVIDIA_VISIBLE_DEVICES=",
                                          chosen->len ? v->str : "void", NULL));
  }
  return TRUE;
}
