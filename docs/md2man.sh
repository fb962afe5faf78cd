#!/bin/sh
# md2man.sh go-md2man|pandoc PROGRAM IN.md OUT: a man page from docs/NAME.SECTION.md. The
# title line "% RRUN-RUN(1) rrun | User Commands" becomes the .TH line here (go-md2man
# 2.0.2, Debian 12's, would copy it as it is); lines of examples that start with "."
# ("...") are escaped, or groff would take them for requests.
set -eu
kind=$1 prog=$2 in=$3 out=$4
title=$(head -n 1 "$in")
name=$(printf '%s\n' "$title" | sed -n 's/^% *\([^(]*\)(.*$/\1/p')
section=$(printf '%s\n' "$title" | sed -n 's/^% *[^(]*(\([^)]*\)).*$/\1/p')
source=$(printf '%s\n' "$title" | sed -n 's/^% *[^)]*) *\([^|]*[^| ]\) *|.*$/\1/p')
manual=$(printf '%s\n' "$title" | sed -n 's/^.*| *//p')
if [ -z "$name" ] || [ -z "$section" ]; then
  echo "md2man.sh: $in: the first line must be \"% NAME(SECTION) SOURCE | MANUAL\"" >&2
  exit 1
fi
{
  printf '.TH "%s" "%s" "" "%s" "%s"\n' "$name" "$section" "$source" "$manual"
  # the converter's own .TH line (if any) is dropped for the one above
  if [ "$kind" = pandoc ]; then
    "$prog" --from markdown --to man "$in"
  else
    "$prog" -in "$in"
  fi | sed '/^\.TH /d'
} | sed 's/^\./\\\&./; s/^\\&\.\([A-Za-z]\)/.\1/' >"$out.tmp"
mv "$out.tmp" "$out"
