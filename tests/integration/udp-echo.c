/* udp-echo PORT: answers every UDP datagram to PORT (on every address) with
   "echo PAYLOAD from ADDR:PORT", the sender's address as this program sees it, so a test
   can tell clients apart and see where a forwarder sends from. Linked statically: it runs
   in the busybox image, which has no UDP server. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  struct sockaddr_in sa = { .sin_family = AF_INET };
  int fd;

  if (argc != 2)
    {
      fprintf (stderr, "usage: udp-echo PORT\n");
      return 2;
    }
  sa.sin_port = htons ((unsigned short) atoi (argv[1]));
  fd = socket (AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      perror ("udp-echo: cannot bind");
      return 1;
    }
  printf ("ready\n");
  fflush (stdout);
  for (;;)
    {
      char in[1024], out[1200], addr[INET_ADDRSTRLEN];
      struct sockaddr_in from;
      socklen_t len = sizeof from;
      ssize_t n = recvfrom (fd, in, sizeof in - 1, 0, (struct sockaddr *) &from, &len);
      int m;

      if (n < 0)
        continue;
      while (n > 0 && in[n - 1] == '\n')
        n--;
      in[n] = '\0';
      inet_ntop (AF_INET, &from.sin_addr, addr, sizeof addr);
      m = snprintf (out, sizeof out, "echo %s from %s:%u", in, addr, ntohs (from.sin_port));
      sendto (fd, out, (size_t) m, 0, (struct sockaddr *) &from, len);
    }
}
