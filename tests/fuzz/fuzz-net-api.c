/* rrun-net's API socket (helpers/net-api.c): one request, with the port forwarder stubbed
   (the forwarder's own bind and listen are not the parser's business). */
#include "../../helpers/net.h"
#include "fuzz.h"

gboolean
net_fwd_add (NetFwd *fwd, gboolean udp, const char *host_addr, guint host_port,
             guint guest_port, guint *out_id, guint *out_port, int *out_errno, GError **error)
{
  *out_id = 1;
  *out_port = host_port ? host_port : 40000;
  return TRUE;
}

gboolean
net_fwd_remove (NetFwd *fwd, guint id, GError **error)
{
  if (id == 1)
    return TRUE;
  return net_throw (error, "no forward %u", id);
}

void
net_fwd_list (NetFwd *fwd, GString *out)
{
  g_string_append (out, "[]");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *reply = NULL;

  fuzz_init ();
  reply = net_api_handle_request (NULL, (const char *) data, size);
  g_assert_nonnull (reply);
  return 0;
}
