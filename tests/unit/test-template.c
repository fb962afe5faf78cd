/* The --format template subset (util/template.c): values printed as Go prints decoded
   JSON, the functions, pipes, trim markers, and the refusals. */
#include "error.h"
#include "util/template.h"

#include <string.h>

static const char *data_text
    = "{\"Id\":\"abc\",\"Size\":1234,\"Ratio\":0.5,\"Big\":1e21,\"Ok\":true,\"None\":null,"
      "\"Config\":{\"Env\":[\"A=1\",\"B=2\"],\"Labels\":{\"z\":\"last\",\"a\":\"first\"},"
      "\"Cmd\":null},\"Empty\":[]}";

static char *
render (const char *tmpl, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (RrunTemplate) t = NULL;

  g_assert_true (json_parser_load_from_data (parser, data_text, -1, NULL));
  t = rrun_template_new (tmpl, error);
  if (t == NULL)
    return NULL;
  return rrun_template_render (t, json_parser_get_root (parser), error);
}

static void
check (const char *tmpl, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = render (tmpl, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, expected);
}

static void
check_error (const char *tmpl, const char *message_part)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = render (tmpl, &error);

  g_assert_null (out);
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, message_part) == NULL)
    g_error ("\"%s\" does not contain \"%s\"", error->message, message_part);
}

static void
test_fields (void)
{
  check ("{{.Id}}", "abc");
  check ("id={{.Id}} size={{.Size}}\n", "id=abc size=1234\n");
  check ("{{.Ratio}} {{.Ok}} {{.None}} {{.Big}}", "0.5 true <nil> 1e+21");
  check ("{{.Config.Env}}", "[A=1 B=2]");
  check ("{{.Config.Labels}}", "map[a:first z:last]");
  check ("{{.Empty}}", "[]");
  check ("{{.Missing}}", "<no value>");
  check ("{{.Config.Cmd.X}}", "<no value>");
  check ("{{ .Id }}", "abc");
  check ("no actions", "no actions");
}

static void
test_functions (void)
{
  check ("{{json .Config.Env}}", "[\"A=1\",\"B=2\"]");
  check ("{{json .Id}}", "\"abc\"");
  check ("{{json .Missing}}", "null");
  check ("{{.Config.Env | json}}", "[\"A=1\",\"B=2\"]");
  check ("{{join .Config.Env \",\"}}", "A=1,B=2");
  check ("{{join .Config.Cmd \",\"}}", "");
  check ("{{index .Config.Labels \"z\"}}", "last");
  check ("{{index .Config.Env 1}}", "B=2");
  check ("{{index .Config.Labels \"nope\"}}", "<no value>");
  check ("{{len .Config.Env}} {{len .Id}}", "2 3");
  check ("{{upper .Id}} {{.Id | upper | lower}}", "ABC abc");
  check ("{{json .Config}}", "{\"Env\":[\"A=1\",\"B=2\"],\"Labels\":"
                             "{\"z\":\"last\",\"a\":\"first\"},\"Cmd\":null}");
}

static void
test_trim (void)
{
  check ("a  {{- .Id -}}  b", "aabcb");
  check ("a {{.Id}} b", "a abc b");
}

static void
test_refused (void)
{
  check_error ("{{range .Config.Env}}{{.}}{{end}}", "unsupported template action \"range");
  check_error ("{{if .Ok}}x{{end}}", "unsupported template action \"if .Ok\"");
  check_error ("{{$x := .Id}}", "unsupported template action");
  check_error ("{{/* c */}}", "unsupported template action");
  check_error ("{{printf \"%s\" .Id}}", "unsupported template action");
  check_error ("{{.Id", "unclosed template action");
  check_error ("{{}}", "empty template action");
  check_error ("{{.Id .Size}}", "unsupported template action");
  check_error ("{{.Id | .Size}}", "pipe must lead into a function");
  check_error ("{{json}}", "json takes 1 argument, not 0");
  check_error ("{{join .Id \",\"}}", "join takes a list, not a string");
  check_error ("{{.Id.Foo}}", "cannot evaluate field Foo of .Id.Foo (the value there is a string)");
  check_error ("{{index .Config.Env 5}}", "index 5 is out of range (the list has 2 items)");
  check_error ("{{json \"unterminated}}", "unterminated string");
}

static void
test_hint (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrunTemplate) t = rrun_template_new ("{{range .}}", &error);

  g_assert_null (t);
  g_assert_nonnull (strstr (error->message, "\nhint: rrun's --format supports {{.Field.Path}}"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/template/fields", test_fields);
  g_test_add_func ("/template/functions", test_functions);
  g_test_add_func ("/template/trim", test_trim);
  g_test_add_func ("/template/refused", test_refused);
  g_test_add_func ("/template/hint", test_hint);
  return g_test_run ();
}
