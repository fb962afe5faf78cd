#!/bin/sh
# Code between clone and exec must be async-signal-safe (STYLE.md §5): the *-child.o
# objects may not call GLib, malloc or stdio. Fails listing the offending symbols.
set -eu
dir=$1
found=0
for obj in "$dir"/*-child.c.o; do
  [ -e "$obj" ] || { echo "not ok 1 - no child objects in $dir"; exit 1; }
  bad=$(nm -u "$obj" | awk '{print $2}' | grep -E '^(g_|malloc|calloc|realloc|free$|printf|fprintf|sprintf|snprintf|vsnprintf|puts|fputs|strerror|getenv|execvp|exit$|opendir|fopen)' || true)
  if [ -n "$bad" ]; then
    echo "# $obj calls: $(echo $bad | tr '\n' ' ')"
    found=1
  fi
done
echo "1..1"
if [ $found -eq 0 ]; then echo "ok 1 - child code calls no GLib, malloc or stdio"; else echo "not ok 1 - child code calls unsafe functions"; exit 1; fi
