/* The container spec: validation before any image lookup, and its stored JSON form. */
#include "container/spec.h"
#include "error.h"

#include <string.h>

static RrunConfig *
config_new (void)
{
  RrunConfig *config = rrun_config_new_defaults ();

  g_free (config->network);
  config->network = g_strdup ("slirp");
  return config;
}

static RrunContainerSpec *
spec_new (const char *image)
{
  RrunContainerSpec *spec = rrun_container_spec_new ();

  spec->image = g_strdup (image);
  return spec;
}

static void
test_bad_options (void)
{
  g_autoptr(RrunConfig) config = config_new ();
  struct
  {
    const char *what;
    const char *message;
  } cases[] = {
    { "publish", "invalid -p \"notaport\"" },
    { "volume", "invalid volume \"./rel:/x\": \"./rel\" is neither an absolute host path nor a volume name" },
    { "ipc", "invalid value \"weird\" for --ipc: expected private, host, shareable, none or container:NAME" },
    { "sysctl", "--sysctl \"vm.swappiness=1\": not a namespaced parameter: it would change the host" },
    { "ulimit", "invalid --ulimit \"nofile=2:1\": the soft limit is above the hard limit" },
    { "rmi", "--rmi needs --rm" },
    { "userns", "invalid value \"what\" for --userns: expected auto, keep-id, nomap or single" },
    { "name", "invalid container name \"a\\nb\"" },
    { "workdir", "invalid working directory \"rel\": it must be absolute" },
    { "pull", "invalid pull policy \"sometimes\"" },
    { "pid-ipc", "--pid container:a and --ipc container:b: a container joins the namespaces of "
                 "one other container only" },
    { "pid-ns", "--pid container:a cannot go with --network ns:/proc/1/ns/net" },
    { "pid-empty", "invalid --pid \"container:\": expected private, host, container:NAME" },
    { "ipc-sysctl", "--sysctl \"kernel.shmmax=1\": the container shares another container's "
                    "IPC namespace (--ipc container:)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(RrunContainerSpec) spec = spec_new ("no/such/image");
      g_autoptr(GError) error = NULL;
      const char *w = cases[i].what;

      if (strcmp (w, "publish") == 0)
        spec->publish = g_strsplit ("notaport", ",", -1);
      else if (strcmp (w, "volume") == 0)
        spec->volumes = g_strsplit ("./rel:/x", ",", -1);
      else if (strcmp (w, "ipc") == 0)
        spec->ipc = g_strdup ("weird");
      else if (strcmp (w, "sysctl") == 0)
        spec->sysctls = g_strsplit ("vm.swappiness=1", ",", -1);
      else if (strcmp (w, "ulimit") == 0)
        spec->ulimits = g_strsplit ("nofile=2:1", ",", -1);
      else if (strcmp (w, "rmi") == 0)
        spec->rmi = TRUE;
      else if (strcmp (w, "userns") == 0)
        spec->userns = g_strdup ("what");
      else if (strcmp (w, "name") == 0)
        spec->name = g_strdup ("a\nb");
      else if (strcmp (w, "workdir") == 0)
        spec->workdir = g_strdup ("rel");
      else if (strcmp (w, "pull") == 0)
        spec->pull = g_strdup ("sometimes");
      else if (strcmp (w, "pid-ipc") == 0)
        spec->pid = g_strdup ("container:a"), spec->ipc = g_strdup ("container:b");
      else if (strcmp (w, "pid-ns") == 0)
        spec->pid = g_strdup ("container:a"), spec->network = g_strdup ("ns:/proc/1/ns/net");
      else if (strcmp (w, "pid-empty") == 0)
        spec->pid = g_strdup ("container:");
      else if (strcmp (w, "ipc-sysctl") == 0)
        spec->ipc = g_strdup ("container:a"),
        spec->sysctls = g_strsplit ("kernel.shmmax=1", ",", -1);
      g_assert_false (rrun_container_spec_validate (config, spec, &error));
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, cases[i].message));
      g_assert_null (spec->net);
    }
}

static void
test_names (void)
{
  g_assert_true (rrun_container_name_valid ("web"));
  g_assert_true (rrun_container_name_valid ("a1_b.c-d"));
  g_assert_false (rrun_container_name_valid ("-web"));
  g_assert_false (rrun_container_name_valid ("_web"));
  g_assert_false (rrun_container_name_valid ("web 1"));
  g_assert_false (rrun_container_name_valid ("web\n"));
  g_assert_false (rrun_container_name_valid (""));
}

static void
test_json_round_trip (void)
{
  g_autoptr(RrunConfig) config = config_new ();
  g_autoptr(RrunContainerSpec) spec = spec_new ("localhost/busybox");
  g_autoptr(RrunContainerSpec) back = NULL;
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autoptr(RrunJsonBuilder) b2 = rrun_json_builder_new ();
  g_autoptr(RrunJson) parsed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL, *text2 = NULL;

  spec->args = g_strsplit ("sh,-c,echo hi", ",", -1);
  spec->env = g_strsplit ("A=1,B=two words", ",", -1);
  spec->name = g_strdup ("web");
  spec->rm = TRUE;
  spec->tty = FALSE;
  spec->read_only = TRUE;
  spec->publish = g_strsplit ("8080:80,127.0.0.1:9090:90/udp", ",", -1);
  spec->tmpfs = g_strsplit ("/scratch:size=64m", ",", -1);
  spec->root_emulation = 0;
  /* issue 20's flags */
  spec->ulimits = g_strsplit ("nofile=64:128", ",", -1);
  spec->sysctls = g_strsplit ("kernel.shmmax=1048576,net.ipv4.tcp_keepalive_time=600", ",", -1);
  spec->pid = g_strdup ("host");
  spec->umask = g_strdup ("0077");
  spec->no_http_proxy = TRUE;
  spec->annotations = g_strsplit ("a=b", ",", -1);
  spec->limits = rrun_cgroup_limits_new ();
  /* as the command line's option group leaves it */
  spec->limits->text.memory = g_strdup ("256m");
  g_assert_true (rrun_cgroup_limits_finish (spec->limits, &error));
  g_assert_no_error (error);
  g_assert_true (rrun_container_spec_validate (config, spec, &error));
  g_assert_no_error (error);
  g_assert_nonnull (spec->net);

  rrun_container_spec_to_json (spec, b);
  text = rrun_json_builder_to_text (b, FALSE);
  parsed = rrun_json_parse (text, strlen (text), RRUN_JSON_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_true (rrun_container_spec_from_json (config, parsed, &back, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (back->image, ==, "localhost/busybox");
  g_assert_cmpstr (back->args[2], ==, "echo hi");
  g_assert_cmpstr (back->env[1], ==, "B=two words");
  g_assert_cmpstr (back->publish[1], ==, "127.0.0.1:9090:90/udp");
  g_assert_true (back->rm);
  g_assert_true (back->read_only);
  g_assert_false (back->tty);
  g_assert_cmpint (back->root_emulation, ==, 0);
  g_assert_cmpstr (back->ulimits[0], ==, "nofile=64:128");
  g_assert_cmpstr (back->sysctls[1], ==, "net.ipv4.tcp_keepalive_time=600");
  g_assert_cmpstr (back->pid, ==, "host");
  g_assert_cmpstr (back->umask, ==, "0077");
  g_assert_true (back->no_http_proxy);
  g_assert_cmpstr (back->annotations[0], ==, "a=b");
  g_assert_cmpuint (back->limits->memory, ==, 256 << 20);
  g_assert_nonnull (back->net);
  /* and it writes back the same */
  rrun_container_spec_to_json (back, b2);
  text2 = rrun_json_builder_to_text (b2, FALSE);
  g_assert_cmpstr (text, ==, text2);
}

static void
test_json_damaged (void)
{
  g_autoptr(RrunConfig) config = config_new ();
  const char *docs[] = {
    "[]",
    "{\"image\": 3}",
    "{\"image\": \"x\", \"args\": \"sh\"}",
    "{\"image\": \"x\", \"rm\": \"yes\"}",
    "{\"image\": \"x\", \"env\": [1]}",
    "{\"image\": \"x\", \"limits\": {\"memory\": 5}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (docs); i++)
    {
      g_autoptr(RrunJson) parsed = rrun_json_parse (docs[i], strlen (docs[i]), RRUN_JSON_DEFAULT,
                                                    NULL);
      g_autoptr(RrunContainerSpec) back = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_nonnull (parsed);
      g_assert_false (rrun_container_spec_from_json (config, parsed, &back, &error));
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
      g_assert_null (back);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/container-spec/bad-options", test_bad_options);
  g_test_add_func ("/container-spec/names", test_names);
  g_test_add_func ("/container-spec/json-round-trip", test_json_round_trip);
  g_test_add_func ("/container-spec/json-damaged", test_json_damaged);
  return g_test_run ();
}
