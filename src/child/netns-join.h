/* A short-lived child of the host side that enters a user namespace and sends back its
   uid_map and gid_map: the maps as seen from the parent namespace, the form rrun writes.
   Async-signal-safe only (rrun may have threads). */
#pragma once

#include <stdint.h>

typedef struct
{
  int32_t errsv; /* 0: the maps follow: uid_map text, a NUL byte, gid_map text */
  int32_t step;  /* 1: setns, 2: reading the maps */
} RrunNetnsJoinReply;

__attribute__ ((noreturn)) void rrun_netns_join_read_maps_child (int userns_fd, int out_fd);
