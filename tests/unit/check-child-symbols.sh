#!/bin/sh
# Code between clone and exec must be async-signal-safe (docs/architecture.md,
# "Child code"): the objects built from src/child/ may not call GLib, malloc or stdio. Fails listing the offending symbols.
set -eu
dir=$1
found=0
n=0
for obj in "$dir"/src_child_*.c.o "$dir"/child_*.c.o "$dir"/*-child.c.o; do
  [ -e "$obj" ] || continue
  n=$((n + 1))
  bad=$(nm -u "$obj" | awk '{print $2}' | grep -E '^(g_|malloc|calloc|realloc|free$|printf|fprintf|sprintf|snprintf|vsnprintf|puts|fputs|strerror|getenv|execvp|exit$|opendir|fopen)' || true)
  if [ -n "$bad" ]; then
    echo "# $obj calls: $(echo $bad | tr '\n' ' ')"
    found=1
  fi
done
echo "1..1"
if [ $n -eq 0 ]; then echo "not ok 1 - no objects from src/child/ in $dir"; exit 1; fi
if [ $found -eq 0 ]; then echo "ok 1 - child code calls no GLib, malloc or stdio"; else echo "not ok 1 - child code calls unsafe functions"; exit 1; fi
