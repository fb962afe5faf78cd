/* A short-lived child of the host side that enters a user namespace and sends back its
   uid_map and gid_map: the maps as seen from the parent namespace, the form rrun writes.
   Async-signal-safe only (docs/architecture.md, "Child code"). It speaks the report
   protocol on sock (a SOCK_SEQPACKET socket): a failure is one report record; success is
   a record with step RRUN_STEP_NONE, then one message "uid_map text\0gid_map text". */
#pragma once

/* The largest map text read (the kernel allows 340 lines). */
#define RRUN_NETNS_JOIN_MAP_MAX 8192

__attribute__ ((noreturn)) void rrun_netns_join_read_maps_child (int userns_fd, const char *what,
                                                                 int sock);
