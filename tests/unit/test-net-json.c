/* rrun-net's JSON reader (helpers/net-json.c), which parses what arrives on the API
   socket: valid documents as RFC 8259 says, everything else refused with a reason. */
#include "net.h"

#include <string.h>

static NetJson *
parse (const char *text, GError **error)
{
  return net_json_parse (text, strlen (text), error);
}

static void
test_valid (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NetJson) v = parse (" {\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": "
                                 "\"tcp\", \"host_port\": 8080, \"neg\": -5, \"f\": 1.5, "
                                 "\"e\": 1e3, \"big\": 92233720368547758070, \"b\": true, "
                                 "\"n\": null, \"a\": [1, [2], {}]}}\n",
                                 &error);
  const NetJson *args;

  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_cmpint (net_json_type (v), ==, NET_JSON_OBJECT);
  g_assert_cmpuint (net_json_size (v), ==, 2);
  g_assert_cmpstr (net_json_member_name (v, 0), ==, "execute");
  g_assert_cmpstr (net_json_string (net_json_member (v, "execute")), ==, "add_hostfwd");
  g_assert_null (net_json_member (v, "missing"));
  args = net_json_member (v, "arguments");
  g_assert_cmpint (net_json_type (args), ==, NET_JSON_OBJECT);
  g_assert_cmpint (net_json_type (net_json_member (args, "host_port")), ==, NET_JSON_INT);
  g_assert_cmpint (net_json_int (net_json_member (args, "host_port")), ==, 8080);
  g_assert_cmpint (net_json_int (net_json_member (args, "neg")), ==, -5);
  /* Fractions, exponents and integers beyond gint64 are numbers, not integers. */
  g_assert_cmpint (net_json_type (net_json_member (args, "f")), ==, NET_JSON_NUMBER);
  g_assert_cmpint (net_json_type (net_json_member (args, "e")), ==, NET_JSON_NUMBER);
  g_assert_cmpint (net_json_type (net_json_member (args, "big")), ==, NET_JSON_NUMBER);
  g_assert_cmpint (net_json_type (net_json_member (args, "b")), ==, NET_JSON_BOOL);
  g_assert_cmpint (net_json_int (net_json_member (args, "b")), ==, 1);
  g_assert_cmpint (net_json_type (net_json_member (args, "n")), ==, NET_JSON_NULL);
  g_assert_cmpint (net_json_type (net_json_member (args, "a")), ==, NET_JSON_ARRAY);
  g_assert_cmpuint (net_json_size (net_json_member (args, "a")), ==, 3);
}

static void
test_strings (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NetJson) v = parse ("\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\"", &error);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (NetJson) back = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (net_json_string (v), ==, "a\"b\\c/d\n\t\xc3\xa9\xf0\x9f\x98\x80");
  /* What the writer escapes reads back the same. */
  rrun_json_write_string (out, "q\"\\\n\t\x01 \xc3\xa9");
  g_assert_cmpstr (out->str, ==, "\"q\\\"\\\\\\n\\t\\u0001 \xc3\xa9\"");
  back = net_json_parse (out->str, out->len, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (net_json_string (back), ==, "q\"\\\n\t\x01 \xc3\xa9");
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
      g_autoptr (NetJson) v = parse (bad[i], &error);

      if (v != NULL)
        g_error ("accepted: %s", bad[i]);
      g_assert_error (error, NET_ERROR, 0);
      g_assert_true (g_str_has_prefix (error->message, "invalid JSON: "));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net-json/valid", test_valid);
  g_test_add_func ("/net-json/strings", test_strings);
  g_test_add_func ("/net-json/invalid", test_invalid);
  return g_test_run ();
}
