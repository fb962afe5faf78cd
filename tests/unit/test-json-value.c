/* The JSON reader (src/util/json-value.c; rrun-net parses its API socket with it): valid
   documents as RFC 8259 says, everything else refused with a reason. */
#include "util/json-value.h"
#include "util/json-write.h"

#include <string.h>

static RrunJson *
parse (const char *text, GError **error)
{
  return rrun_json_parse (text, strlen (text), RRUN_JSON_UNIQUE_NAMES, error);
}

static void
test_valid (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrunJson) v = parse (" {\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": "
                                 "\"tcp\", \"host_port\": 8080, \"neg\": -5, \"f\": 1.5, "
                                 "\"e\": 1e3, \"big\": 92233720368547758070, \"b\": true, "
                                 "\"n\": null, \"a\": [1, [2], {}]}}\n",
                                 &error);
  const RrunJson *args;

  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_cmpint (rrun_json_type (v), ==, RRUN_JSON_OBJECT);
  g_assert_cmpuint (rrun_json_size (v), ==, 2);
  g_assert_cmpstr (rrun_json_member_name (v, 0), ==, "execute");
  g_assert_cmpstr (rrun_json_string (rrun_json_member (v, "execute")), ==, "add_hostfwd");
  g_assert_null (rrun_json_member (v, "missing"));
  args = rrun_json_member (v, "arguments");
  g_assert_cmpint (rrun_json_type (args), ==, RRUN_JSON_OBJECT);
  g_assert_cmpint (rrun_json_type (rrun_json_member (args, "host_port")), ==, RRUN_JSON_INT);
  g_assert_cmpint (rrun_json_int (rrun_json_member (args, "host_port")), ==, 8080);
  g_assert_cmpint (rrun_json_int (rrun_json_member (args, "neg")), ==, -5);
  /* Fractions, exponents and integers beyond gint64 are numbers, not integers. */
  g_assert_cmpint (rrun_json_type (rrun_json_member (args, "f")), ==, RRUN_JSON_NUMBER);
  g_assert_cmpint (rrun_json_type (rrun_json_member (args, "e")), ==, RRUN_JSON_NUMBER);
  g_assert_cmpint (rrun_json_type (rrun_json_member (args, "big")), ==, RRUN_JSON_NUMBER);
  g_assert_cmpint (rrun_json_type (rrun_json_member (args, "b")), ==, RRUN_JSON_BOOL);
  g_assert_cmpint (rrun_json_int (rrun_json_member (args, "b")), ==, 1);
  g_assert_cmpint (rrun_json_type (rrun_json_member (args, "n")), ==, RRUN_JSON_NULL);
  g_assert_cmpint (rrun_json_type (rrun_json_member (args, "a")), ==, RRUN_JSON_ARRAY);
  g_assert_cmpuint (rrun_json_size (rrun_json_member (args, "a")), ==, 3);
  g_assert_cmpint (rrun_json_type (rrun_json_element (rrun_json_member (args, "a"), 1)), ==,
                   RRUN_JSON_ARRAY);
  g_assert_cmpfloat (rrun_json_number (rrun_json_member (args, "f")), ==, 1.5);
  g_assert_cmpfloat (rrun_json_number (rrun_json_member (args, "e")), ==, 1000.0);
  g_assert_cmpfloat (rrun_json_number (rrun_json_member (args, "host_port")), ==, 8080.0);
  g_assert_cmpstr (rrun_json_member_string (v, "execute"), ==, "add_hostfwd");
  g_assert_null (rrun_json_member_string (args, "host_port"));
  g_assert_null (rrun_json_member (rrun_json_member (args, "a"), "x"));
}

/* A name given twice: by default kept once with the last value in the first place (as Go,
   which wrote most image configs, and json-glib read it); refused where names must be
   unique (the API socket). */
static void
test_duplicates (void)
{
  const char *text = "{\"a\":1,\"b\":2,\"a\":3}";
  g_autoptr (GError) error = NULL;
  g_autoptr (RrunJson) v = rrun_json_parse (text, strlen (text), RRUN_JSON_DEFAULT, &error);
  g_autoptr (RrunJson) strict = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (rrun_json_int (rrun_json_member (v, "a")), ==, 3);
  /* Kept once, in its first place. */
  g_assert_cmpuint (rrun_json_size (v), ==, 2);
  g_assert_cmpstr (rrun_json_member_name (v, 0), ==, "a");
  /* Past the few members scanned one by one, names are found through an index. */
  {
    g_autoptr (GString) big = g_string_new ("{");
    g_autoptr (RrunJson) many = NULL;

    for (int i = 0; i < 5000; i++)
      g_string_append_printf (big, "\"k%d\":%d,", i % 2500, i);
    g_string_append (big, "\"k7\":-1}");
    many = rrun_json_parse (big->str, big->len, RRUN_JSON_DEFAULT, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (rrun_json_size (many), ==, 2500);
    g_assert_cmpstr (rrun_json_member_name (many, 7), ==, "k7");
    g_assert_cmpint (rrun_json_int (rrun_json_member (many, "k7")), ==, -1);
    g_assert_cmpint (rrun_json_int (rrun_json_member (many, "k8")), ==, 2508);
  }
  strict = rrun_json_parse (text, strlen (text), RRUN_JSON_UNIQUE_NAMES, &error);
  g_assert_null (strict);
  g_assert_error (error, RRUN_JSON_ERROR, 0);
}

static void
test_strings (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RrunJson) v = parse ("\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\"", &error);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (RrunJson) back = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (rrun_json_string (v), ==, "a\"b\\c/d\n\t\xc3\xa9\xf0\x9f\x98\x80");
  /* What the writer escapes reads back the same. */
  rrun_json_write_string (out, "q\"\\\n\t\x01 \xc3\xa9");
  g_assert_cmpstr (out->str, ==, "\"q\\\"\\\\\\n\\t\\u0001 \xc3\xa9\"");
  back = rrun_json_parse (out->str, out->len, RRUN_JSON_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rrun_json_string (back), ==, "q\"\\\n\t\x01 \xc3\xa9");
  /* Bytes that are not UTF-8 (argv, a path) still give valid JSON; NULL is null. */
  g_string_truncate (out, 0);
  rrun_json_write_string (out, "a\xff" "b");
  rrun_json_write_string (out, NULL);
  g_assert_cmpstr (out->str, ==, "\"a\xef\xbf\xbd" "b\"null");
}

static void
test_invalid (void)
{
  static const char *const bad[] = {
    "", "   ", "{", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1,]", "[1 2]", "01", "-", "1.",
    "1e", ".5", "+1", "tru", "nul", "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"",
    "\"\\ud800\"", "\"\\udc00\"", "\"\\u0000\"", "\"tab\there\"", "\"\xff\xfe\"",
    "{\"a\":1,\"a\":2}", "{} {}", "{}x",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]"
    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (RrunJson) v = parse (bad[i], &error);

      if (v != NULL)
        g_error ("accepted: %s", bad[i]);
      g_assert_error (error, RRUN_JSON_ERROR, 0);
      g_assert_true (g_str_has_prefix (error->message, "invalid JSON: "));
    }
}

/* Values built in code (the builder, as JsonBuilder is used) and written back. */
static void
test_build (void)
{
  g_autoptr (RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autoptr (RrunJsonBuilder) unfinished = rrun_json_builder_new ();
  g_autoptr (RrunJson) v = NULL, copy = NULL, back = NULL;
  g_autofree char *compact = NULL, *pretty = NULL;

  rrun_json_builder_begin_object (b);
  rrun_json_builder_set_member_name (b, "s");
  rrun_json_builder_add_string_value (b, "a\"b");
  rrun_json_builder_set_member_name (b, "n");
  rrun_json_builder_add_null_value (b);
  rrun_json_builder_set_member_name (b, "list");
  rrun_json_builder_begin_array (b);
  rrun_json_builder_add_int_value (b, -3);
  rrun_json_builder_add_double_value (b, 0.5);
  rrun_json_builder_add_boolean_value (b, TRUE);
  rrun_json_builder_begin_object (b);
  rrun_json_builder_end_object (b);
  rrun_json_builder_end_array (b);
  rrun_json_builder_set_member_name (b, "s");
  rrun_json_builder_add_string_value (b, "again");
  rrun_json_builder_member_strv (b, "none", NULL);
  rrun_json_builder_member_value (b, "nothing", NULL);
  g_assert_null (rrun_json_builder_get_root (b));
  rrun_json_builder_end_object (b);
  v = rrun_json_builder_get_root (b);
  g_assert_nonnull (v);

  compact = rrun_json_value_to_text (v, FALSE);
  g_assert_cmpstr (compact, ==, "{\"s\":\"again\",\"n\":null,\"list\":[-3,0.5,true,{}],"
                                "\"none\":[],\"nothing\":null}");
  pretty = rrun_json_value_to_text (v, TRUE);
  g_assert_cmpstr (pretty, ==, "{\n  \"s\": \"again\",\n  \"n\": null,\n  \"list\": [\n    -3,\n"
                               "    0.5,\n    true,\n    {}\n  ],\n  \"none\": [],\n  \"nothing\": null\n}");
  copy = rrun_json_copy (v);
  g_free (compact);
  compact = rrun_json_value_to_text (copy, FALSE);
  back = rrun_json_parse (compact, strlen (compact), RRUN_JSON_UNIQUE_NAMES, NULL);
  g_assert_nonnull (back);
  g_assert_cmpint (rrun_json_int (rrun_json_element (rrun_json_member (back, "list"), 0)), ==, -3);

  /* A builder freed with containers open frees them. */
  rrun_json_builder_begin_array (unfinished);
  rrun_json_builder_begin_object (unfinished);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-value/valid", test_valid);
  g_test_add_func ("/json-value/strings", test_strings);
  g_test_add_func ("/json-value/duplicates", test_duplicates);
  g_test_add_func ("/json-value/invalid", test_invalid);
  g_test_add_func ("/json-value/build", test_build);
  return g_test_run ();
}
