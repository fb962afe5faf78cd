#!/bin/bash
# Squashfs single-file images (issue 18), side by side in one run, medians:
#  1. start: `rrun run --rm IMG true` from the store against `rrun run --rm FILE.sqsh true`
#     (N runs each, interleaved);
#  2. export of a ~100 MB image to squashfs against mksquashfs of its unpacked tree (the
#     same tree the image was imported from; 5 runs each, interleaved), for the one-layer
#     image and for a two-layer image built on it (kernel overlay merge).
# Usage (as the user who runs containers, not root):
#   RRUN=build/src/rrun IMG=localhost/busybox-rootfs.tar bench/squashfs.sh ROOTFS_TAR
# ROOTFS_TAR: tests/fixtures/make-rootfs.sh's rootfs.tar (a busybox tree, made again here).
set -euo pipefail
R=${RRUN:-rrun}; N=${N:-21}; M=${M:-5}
base_tar=${1:?usage: bench/squashfs.sh ROOTFS_DIR_OF_make-rootfs.sh}
work=$(mktemp -d "${TMPDIR:-/tmp}/rrun-sqbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
t() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e-s)/1000 )); }

# A ~100 MB tree: busybox, 48 MiB of random data, 2000 files of 24 KiB of text.
tree=$work/tree
mkdir -p "$tree"
tar -xf "$base_tar" -C "$tree" --no-same-owner 2>/dev/null || cp -a "$base_tar"/. "$tree"
mkdir -p "$tree/data/text"
head -c $((48 << 20)) /dev/urandom >"$tree/data/random.bin"
seq 1 3000 | sed 's/$/ lorem ipsum dolor sit amet/' >"$work/line"
for i in $(seq 1 2000); do head -c 24576 "$work/line" >"$tree/data/text/f$i.txt"; echo "$i" >>"$tree/data/text/f$i.txt"; done
du -sm "$tree" | awk '{print "tree: " $1 " MB"}'
tar -C "$tree" -cf "$work/big.tar" .
"$R" import "$work/big.tar" localhost/sqbench-big >/dev/null
mkdir -p "$work/ctx"
printf 'FROM localhost/sqbench-big\nRUN echo two > /data/two && rm /data/text/f1.txt\n' >"$work/ctx/Dockerfile"
"$R" build -q -t localhost/sqbench-two "$work/ctx" >/dev/null

# 1. start from the store and from the file (lz4, the default, and gzip)
"$R" image export --format squashfs localhost/sqbench-big -o "$work/big.sqsh"
"$R" image export --compression gzip localhost/sqbench-big -o "$work/big-gz.sqsh"
"$R" run --rm localhost/sqbench-big true; "$R" run --rm "$work/big.sqsh" true
store=() file=() filegz=()
for i in $(seq "$N"); do
  store+=("$(t "$R" run --rm localhost/sqbench-big true)")
  file+=("$(t "$R" run --rm "$work/big.sqsh" true)")
  filegz+=("$(t "$R" run --rm "$work/big-gz.sqsh" true)")
done
echo "run --rm IMG true (store):      $(printf '%s\n' "${store[@]}" | med) us"
echo "run --rm FILE.sqsh true (lz4):  $(printf '%s\n' "${file[@]}" | med) us"
echo "run --rm FILE.sqsh true (gzip): $(printf '%s\n' "${filegz[@]}" | med) us"

# 2. export against mksquashfs of the unpacked tree
# export's default compressor is lz4; mksquashfs's own default is gzip: both, each way.
ex1=() ex2=() exg=() mk=() mkl=()
for i in $(seq "$M"); do
  ex1+=("$(t "$R" image export --format squashfs localhost/sqbench-big -o "$work/e1.sqsh")")
  ex2+=("$(t "$R" image export --format squashfs localhost/sqbench-two -o "$work/e2.sqsh")")
  exg+=("$(t "$R" image export --compression gzip localhost/sqbench-big -o "$work/eg.sqsh")")
  mk+=("$(t mksquashfs "$tree" "$work/m.sqsh" -noappend -quiet -no-progress)")
  mkl+=("$(t mksquashfs "$tree" "$work/ml.sqsh" -noappend -quiet -no-progress -comp lz4)")
done
echo "image export (lz4), 1 layer:   $(printf '%s\n' "${ex1[@]}" | med) us ($(stat -c %s "$work/e1.sqsh") bytes)"
echo "image export (lz4), 2 layers:  $(printf '%s\n' "${ex2[@]}" | med) us ($(stat -c %s "$work/e2.sqsh") bytes)"
echo "mksquashfs -comp lz4 of tree:  $(printf '%s\n' "${mkl[@]}" | med) us ($(stat -c %s "$work/ml.sqsh") bytes)"
echo "image export --compression gzip: $(printf '%s\n' "${exg[@]}" | med) us ($(stat -c %s "$work/eg.sqsh") bytes)"
echo "mksquashfs (gzip) of the tree: $(printf '%s\n' "${mk[@]}" | med) us ($(stat -c %s "$work/m.sqsh") bytes)"
"$R" rmi -f localhost/sqbench-two localhost/sqbench-big >/dev/null
