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
render_with (const char *text, const char *tmpl, GError **error)
{
  g_autoptr (RrunJson) data = rrun_json_parse (text, strlen (text), RRUN_JSON_DEFAULT, NULL);
  g_autoptr (RrunTemplate) t = NULL;

  g_assert_nonnull (data);
  t = rrun_template_new (tmpl, error);
  if (t == NULL)
    return NULL;
  return rrun_template_render (t, data, error);
}

static char *
render (const char *tmpl, GError **error)
{
  return render_with (data_text, tmpl, error);
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

/* Integers and other numbers as Go prints float64s decoded from JSON. */
static void
test_numbers (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out
      = render_with ("{\"I\":-7,\"W\":2.0,\"F\":-0.25,\"E\":-1e21,\"L\":[1,2.5]}",
                     "{{.I}} {{.W}} {{.F}} {{.E}} {{.L}} {{json .L}} {{index .L 0}}", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "-7 2 -0.25 -1e+21 [1 2.5] [1,2.5] 1");
}

/* An object naming a member twice is a Go map: the last value, the name once. */
static void
test_duplicate_names (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out
      = render_with ("{\"M\":{\"b\":1,\"a\":2,\"b\":3}}",
                     "{{.M}} {{len .M}} {{.M.b}} {{index .M \"b\"}} {{json .}}", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "map[a:2 b:3] 2 3 3 {\"M\":{\"b\":3,\"a\":2}}");
}

/* Values made by a function (owned) go on down a pipe. */
static void
test_pipe_values (void)
{
  check ("{{index .Config.Env 1 | lower | len}}", "3");
  check ("{{json .Config.Labels | upper}}", "{\"Z\":\"LAST\",\"A\":\"FIRST\"}");
  check ("{{len .Config.Labels | json}}", "2");
  check ("{{index .None \"x\" | json}}", "null");
  check_error ("{{.Id | index \"x\"}}", "cannot index a string with a string");
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
  g_test_add_func ("/template/numbers", test_numbers);
  g_test_add_func ("/template/duplicate-names", test_duplicate_names);
  g_test_add_func ("/template/pipe-values", test_pipe_values);
  g_test_add_func ("/template/trim", test_trim);
  g_test_add_func ("/template/refused", test_refused);
  g_test_add_func ("/template/hint", test_hint);
  return g_test_run ();
}
