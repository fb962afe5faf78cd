#!/bin/bash
# subuid-setup.sh: the administrator's one script for rootless containers (rrun).
#
#   sudo ./subuid-setup.sh USER...        give each user 65536 subordinate uids and gids
#   sudo ./subuid-setup.sh --all          ... every human account (UID_MIN..UID_MAX, real shell)
#   ./subuid-setup.sh --check [USER]      report what is missing; change nothing
#   sudo ./subuid-setup.sh --fix          fix what can be fixed without installing packages
#   sudo ./subuid-setup.sh --remove USER  drop USER's ranges
#
# Exit status: 0 all well, 1 problems found (or a change failed), 2 usage.
# Running it twice changes nothing the second time.
set -euo pipefail

PROG=${0##*/}
ETC=/etc
DEV=/dev
COUNT=65536
MIN_START=100000
DRY_RUN=0
MODE=add
DO_FIX=0
DO_ALL=0
RRUN_PATH=
USERS=()
PROBLEMS=0
LOCKS=()
TMPFILES=()
STAGE=

usage() {
  cat <<EOF
usage: $PROG [options] USER...
       $PROG [options] --all
       $PROG --check [USER...]
       $PROG --fix [USER...]
       $PROG --remove USER...

Give users non-overlapping ranges of subordinate user and group IDs in /etc/subuid and
/etc/subgid so that rootless containers (rrun, podman) can map whole images.

options:
  --all          every human account: UID_MIN..UID_MAX of login.defs with a real shell
  --count N      IDs per user (default 65536)
  --dry-run      print the changes as a diff; change nothing
  --check        report ranges and host settings; change nothing
  --fix          also fix host settings: /dev/fuse and /dev/net/tun 0666, newuidmap and
                 newgidmap setuid, user namespace sysctls, an AppArmor profile for rrun
  --remove       remove the users' ranges
  --rrun PATH    the rrun binary the AppArmor profile names (default: found in PATH)
  --etc DIR      operate on DIR/subuid, DIR/subgid, DIR/passwd ... (for tests)
  --dev DIR      check DIR/fuse and DIR/net/tun instead of /dev (for tests)
  -h, --help     this text

exit status: 0 all well, 1 problems found, 2 usage
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }
usage_error() {
  warn "$*"
  printf 'hint: see: %s --help\n' "$PROG" >&2
  exit 2
}
pass() { printf 'PASS  %s\n' "$1"; }
fixed() { printf 'FIXED %s\n' "$1"; }
problem() {
  # problem WHAT [FIX]: one failed check and the command that fixes it
  printf 'FAIL  %s\n' "$1"
  if [[ -n ${2:-} ]]; then
    printf '      fix: %s\n' "$2"
  fi
  PROBLEMS=$((PROBLEMS + 1))
}

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  local f
  for f in "${TMPFILES[@]}"; do
    rm -f -- "$f"
  done
  for f in "${LOCKS[@]}"; do
    rm -f -- "$f"
  done
  if [[ -n $STAGE ]]; then
    rm -rf -- "$STAGE"
  fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- arguments

while (($#)); do
  case $1 in
  --all) DO_ALL=1 ;;
  --count)
    (($# >= 2)) || usage_error "--count needs a number"
    COUNT=$2
    shift
    ;;
  --count=*) COUNT=${1#*=} ;;
  --dry-run) DRY_RUN=1 ;;
  --check) MODE=check ;;
  --fix) DO_FIX=1 ;;
  --remove) MODE=remove ;;
  --rrun)
    (($# >= 2)) || usage_error "--rrun needs a path"
    RRUN_PATH=$2
    shift
    ;;
  --rrun=*) RRUN_PATH=${1#*=} ;;
  --etc)
    (($# >= 2)) || usage_error "--etc needs a directory"
    ETC=$2
    shift
    ;;
  --etc=*) ETC=${1#*=} ;;
  --dev)
    (($# >= 2)) || usage_error "--dev needs a directory"
    DEV=$2
    shift
    ;;
  --dev=*) DEV=${1#*=} ;;
  -h | --help)
    usage
    exit 0
    ;;
  --)
    shift
    USERS+=("$@")
    break
    ;;
  -*) usage_error "unknown option \"$1\"" ;;
  *) USERS+=("$1") ;;
  esac
  shift
done

if ! [[ $COUNT =~ ^[1-9][0-9]{0,8}$ ]]; then
  usage_error "invalid --count \"$COUNT\": expected a number from 1 to 999999999"
fi
[[ -d $ETC ]] || usage_error "--etc \"$ETC\" is not a directory"
ETC=${ETC%/}
[[ -n $ETC ]] || ETC=/
SUBUID=$ETC/subuid
SUBGID=$ETC/subgid

case $MODE in
add)
  if ((DO_ALL)) && ((${#USERS[@]})); then
    usage_error "give either --all or user names, not both"
  fi
  if ! ((DO_ALL)) && ! ((${#USERS[@]})) && ! ((DO_FIX)); then
    usage_error "no user given"
  fi
  ;;
remove)
  ((${#USERS[@]})) || usage_error "--remove needs at least one user"
  ((DO_ALL == 0)) || usage_error "--remove and --all do not go together"
  ;;
check)
  ((DO_FIX == 0)) || usage_error "--check changes nothing; use --fix on its own"
  ((DO_ALL == 0)) || usage_error "--check and --all do not go together"
  ;;
esac

# ---------------------------------------------------------------- accounts

# passwd entries: the --etc directory's own passwd when it has one (tests), NSS otherwise.
passwd_lines() {
  if [[ $ETC != /etc && -f $ETC/passwd ]]; then
    cat -- "$ETC/passwd"
  else
    getent passwd || true
  fi
}

passwd_entry() { # NAME-OR-UID -> "name:x:uid:gid:gecos:home:shell" or nothing
  local key=$1
  if [[ $ETC != /etc && -f $ETC/passwd ]]; then
    awk -F: -v k="$key" '$1 == k || $3 == k { print; exit }' "$ETC/passwd"
  else
    getent passwd "$key" || true
  fi
}

login_defs_value() { # KEY DEFAULT
  local file=$ETC/login.defs v=
  [[ -f $file ]] || file=/etc/login.defs
  if [[ -f $file ]]; then
    v=$(awk -v k="$1" '$1 == k { print $2; exit }' "$file")
  fi
  [[ $v =~ ^[0-9]+$ ]] || v=$2
  printf '%s\n' "$v"
}

real_shell() {
  local shell=$1 shells=$ETC/shells
  case $shell in
  "" | */nologin | */false | */sync | */halt | */shutdown) return 1 ;;
  esac
  [[ -f $shells ]] || shells=/etc/shells
  [[ -f $shells ]] || return 0
  grep -qxF -- "$shell" "$shells"
}

human_users() {
  local min max
  min=$(login_defs_value UID_MIN 1000)
  max=$(login_defs_value UID_MAX 60000)
  passwd_lines | while IFS=: read -r name _ uid _ _ _ shell; do
    [[ $uid =~ ^[0-9]+$ ]] || continue
    ((uid >= min && uid <= max)) || continue
    real_shell "$shell" || continue
    printf '%s\n' "$name"
  done | awk '!seen[$0]++'
}

# ---------------------------------------------------------------- subordinate id files

# Ranges come from NSS (SSSD, FreeIPA) when nsswitch.conf names a subid source other
# than files; then the files are not what newuidmap reads and must not be edited.
nss_subid_source() {
  local conf=$ETC/nsswitch.conf
  [[ -f $conf ]] || return 0
  awk '$1 == "subid:" { for (i = 2; i <= NF; i++) if ($i != "files") { print $i; exit } }' "$conf"
}

# Lines "owner start count" of a subid file, comments and malformed lines skipped.
ranges_of() {
  [[ -f $1 ]] || return 0
  awk -F: 'NF == 3 && $1 !~ /^[[:space:]]*#/ && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ {
             print $1, $2, $3 }' "$1"
}

# Ranges of a user in a file, matched by name or numeric uid: "start count" lines.
user_ranges() { # FILE NAME UID
  ranges_of "$1" | awk -v n="$2" -v u="$3" '$1 == n || $1 == u { print $2, $3 }'
}

# The first id above every range in both files, and at least MIN_START.
next_free() {
  { ranges_of "$SUBUID"; ranges_of "$SUBGID"; } |
    awk -v min="$MIN_START" 'BEGIN { top = min }
                             { end = $2 + $3; if (end > top) top = end }
                             END { printf "%d\n", top }'
}

# Ranges of different owners that overlap: "a:s:c overlaps b:s:c" lines.
overlaps_in() {
  ranges_of "$1" | sort -k2,2n | awk '
    NR > 1 && $2 < prev_end && $1 != prev_owner {
      printf "%s:%s:%s overlaps %s:%s:%s\n", prev_owner, prev_start, prev_count, $1, $2, $3 }
    { if ($2 + $3 > prev_end || NR == 1) { prev_end = $2 + $3; prev_owner = $1
                                            prev_start = $2; prev_count = $3 } }'
}

# shadow's own lock protocol (useradd, usermod --add-subuids): FILE.lock made by link(2)
# from a file holding our pid, so those tools and this script never edit at once. A lock
# whose pid is gone is stale and taken over. flock(2) would not keep shadow out.
lock_file() {
  local file=$1 lock=$1.lock tmp="$1.$$" pid='' i
  printf '%s' "$$" >"$tmp"
  TMPFILES+=("$tmp")
  for ((i = 0; i < 50; i++)); do
    if ln -- "$tmp" "$lock" 2>/dev/null; then
      LOCKS+=("$lock")
      rm -f -- "$tmp"
      return 0
    fi
    pid=$(head -c 32 -- "$lock" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then
      rm -f -- "$lock"
      continue
    fi
    sleep 0.2
  done
  warn "cannot lock $file: $lock is held by process ${pid:-?}"
  printf 'hint: wait for that process, or remove %s if it is gone\n' "$lock" >&2
  exit 1
}

# Replace FILE by the content of STAGED atomically (a temp file beside it, then rename),
# keeping mode and owner, with a FILE- backup as shadow's tools keep.
install_file() { # FILE STAGED
  local file=$1 new
  new=$(mktemp -- "$file.rrun-XXXXXX")
  TMPFILES+=("$new")
  cat -- "$2" >"$new"
  if [[ -f $file ]]; then
    chmod --reference="$file" -- "$new"
    chown --reference="$file" -- "$new" 2>/dev/null || true
    cp -p -- "$file" "$file-"
  else
    chmod 0644 -- "$new"
  fi
  sync -- "$new" 2>/dev/null || true
  mv -f -- "$new" "$file"
}

# Write the planned content of FILE (from stdin) and show or apply it.
apply_change() { # FILE NEWCONTENT-FILE
  local file=$1 new=$2 old=$1
  [[ -f $old ]] || old=/dev/null
  if cmp -s -- "$old" "$new"; then
    rm -f -- "$new"
    return 0
  fi
  if ((DRY_RUN)); then
    diff -u --label "$file" --label "$file (new)" -- "$old" "$new" || true
    rm -f -- "$new"
    return 0
  fi
  install_file "$file" "$new"
}

new_tmp() { # FILE -> a private staging copy to edit (not yet in place)
  mktemp -- "$STAGE/${1##*/}.XXXXXX"
}

add_users() {
  local -a names=("$@")
  local name entry uid start ufile gfile changed=0 have_u have_g
  local nss
  nss=$(nss_subid_source)
  if [[ -n $nss ]]; then
    say "subordinate ids come from NSS (\"subid: $nss\" in $ETC/nsswitch.conf); not editing files"
    for name in "${names[@]}"; do
      check_user "$name"
    done
    return 0
  fi

  if ((DRY_RUN == 0)); then
    lock_file "$SUBUID"
    lock_file "$SUBGID"
  fi
  ufile=$(new_tmp "$SUBUID")
  gfile=$(new_tmp "$SUBGID")
  if [[ -f $SUBUID ]]; then cat -- "$SUBUID" >"$ufile"; fi
  if [[ -f $SUBGID ]]; then cat -- "$SUBGID" >"$gfile"; fi
  # A file without a final newline would glue our line to its last one.
  for f in "$ufile" "$gfile"; do
    if [[ -s $f && $(tail -c1 -- "$f" | od -An -c | tr -d ' ') != '\n' ]]; then
      printf '\n' >>"$f"
    fi
  done

  for name in "${names[@]}"; do
    entry=$(passwd_entry "$name")
    if [[ -z $entry ]]; then
      warn "no such user \"$name\""
      PROBLEMS=$((PROBLEMS + 1))
      continue
    fi
    IFS=: read -r name _ uid _ <<<"$entry"
    have_u=$(user_ranges "$ufile" "$name" "$uid" | head -n1)
    have_g=$(user_ranges "$gfile" "$name" "$uid" | head -n1)
    if [[ -n $have_u && -n $have_g ]]; then
      say "$name: already has subuid ${have_u/ /:} and subgid ${have_g/ /:}; left alone"
      continue
    fi
    # Above every range in both files, so the user's uid and gid ranges line up.
    start=$(SUBUID=$ufile SUBGID=$gfile next_free)
    if ((start + COUNT > 4294967295)); then
      warn "no room for $COUNT more ids above $start"
      PROBLEMS=$((PROBLEMS + 1))
      continue
    fi
    if [[ -z $have_u ]]; then
      printf '%s:%s:%s\n' "$name" "$start" "$COUNT" >>"$ufile"
    fi
    if [[ -z $have_g ]]; then
      printf '%s:%s:%s\n' "$name" "$start" "$COUNT" >>"$gfile"
    fi
    changed=1
    if ((DRY_RUN)); then
      say "$name: would get subordinate ids $start-$((start + COUNT - 1)) ($COUNT)"
    else
      say "$name: subordinate ids $start-$((start + COUNT - 1)) ($COUNT)"
    fi
  done

  if ((changed)); then
    apply_change "$SUBUID" "$ufile"
    apply_change "$SUBGID" "$gfile"
  fi
}

remove_users() {
  local name entry uid f new
  if [[ -n $(nss_subid_source) ]]; then
    warn "subordinate ids come from NSS ($ETC/nsswitch.conf); remove them there"
    exit 1
  fi
  if ((DRY_RUN == 0)); then
    lock_file "$SUBUID"
    lock_file "$SUBGID"
  fi
  for f in "$SUBUID" "$SUBGID"; do
    [[ -f $f ]] || continue
    new=$(new_tmp "$f")
    cat -- "$f" >"$new"
    for name in "${USERS[@]}"; do
      entry=$(passwd_entry "$name")
      uid=
      if [[ -n $entry ]]; then
        IFS=: read -r name _ uid _ <<<"$entry"
      fi
      awk -F: -v n="$name" -v u="${uid:--}" '!(NF == 3 && ($1 == n || $1 == u))' \
        "$new" >"$new.x"
      mv -f -- "$new.x" "$new"
    done
    if ! cmp -s -- "$f" "$new"; then
      say "${f##*/}: removing $(diff -- "$f" "$new" | grep -c '^<') line(s)"
    fi
    apply_change "$f" "$new"
  done
  for name in "${USERS[@]}"; do
    [[ -n $(passwd_entry "$name") ]] || say "note: \"$name\" is not a known user"
  done
}

# ---------------------------------------------------------------- checks

check_user() {
  local name=$1 entry uid f kind r s c found
  entry=$(passwd_entry "$name")
  if [[ -z $entry ]]; then
    problem "user \"$name\" exists" ""
    return
  fi
  IFS=: read -r name _ uid _ <<<"$entry"
  local nss
  nss=$(nss_subid_source)
  for kind in uid gid; do
    if [[ -n $nss ]]; then
      local opt=()
      [[ $kind == gid ]] && opt=(-g)
      if r=$(getsubids "${opt[@]}" "$name" 2>/dev/null) && [[ -n $r ]]; then
        read -r _ _ s c <<<"$(head -n1 <<<"$r")"
        pass "$name has subordinate ${kind}s $s:$c (from NSS: $nss)"
      else
        problem "$name has no subordinate ${kind}s in NSS ($nss)" \
          "add a range for $name in your identity service ($nss)"
      fi
      continue
    fi
    f=$SUBUID
    [[ $kind == gid ]] && f=$SUBGID
    found=$(user_ranges "$f" "$name" "$uid")
    if [[ -z $found ]]; then
      problem "$name has no range in $f" "sudo $PROG $name"
      continue
    fi
    read -r s c <<<"$(head -n1 <<<"$found")"
    if ((c < 65536)); then
      problem "$name has only $c subordinate ${kind}s in $f (images need 65536)" \
        "sudo $PROG --remove $name && sudo $PROG $name"
    else
      pass "$name has subordinate ${kind}s $s:$c in $f"
    fi
  done
}

check_overlaps() {
  local f o
  for f in "$SUBUID" "$SUBGID"; do
    [[ -f $f ]] || continue
    o=$(overlaps_in "$f")
    if [[ -n $o ]]; then
      while IFS= read -r line; do
        problem "$f: $line" "edit $f so that ranges do not overlap"
      done <<<"$o"
    else
      pass "no overlapping ranges in $f"
    fi
  done
}

persist_sysctl() { # KEY VALUE
  local dir=$ETC/sysctl.d file
  file=$dir/50-rrun.conf
  mkdir -p -- "$dir"
  if [[ -f $file ]] && grep -q "^$1 *=" "$file"; then
    sed -i "s|^$1 *=.*|$1 = $2|" "$file"
  else
    printf '%s = %s\n' "$1" "$2" >>"$file"
  fi
}

check_sysctl() { # KEY WANT-DESC GOOD-TEST FIX-VALUE
  local key=$1 path value
  path=/proc/sys/${key//./\/}
  [[ -r $path ]] || return 0 # the kernel lacks this knob: nothing to check
  value=$(<"$path")
  if eval "$3"; then
    pass "$key = $value"
  elif ((DO_FIX)); then
    if sysctl -q -w "$key=$4" >/dev/null 2>&1; then
      persist_sysctl "$key" "$4"
      fixed "$key = $4 (was $value; kept in $ETC/sysctl.d/50-rrun.conf)"
    else
      problem "$key = $value ($2)" "sudo sysctl -w $key=$4"
    fi
  else
    problem "$key = $value ($2)" "sudo $PROG --fix   (or: sudo sysctl -w $key=$4)"
  fi
}

check_map_helper() { # newuidmap | newgidmap
  local name=$1 path caps want=cap_setuid
  [[ $name == newgidmap ]] && want=cap_setgid
  path=$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v "$name" || true)
  if [[ -z $path ]]; then
    problem "$name is not installed" "sudo apt-get install uidmap   (shadow-utils on Fedora/RHEL)"
    return
  fi
  path=$(readlink -f -- "$path")
  if [[ -u $path && $(stat -c %u -- "$path") == 0 ]]; then
    pass "$path is setuid root"
    return
  fi
  caps=$(getcap -- "$path" 2>/dev/null || true)
  if [[ $caps == *"$want"* ]]; then
    pass "$path has file capability $want"
    return
  fi
  if ((DO_FIX)); then
    chown root:root -- "$path" && chmod u+s -- "$path"
    fixed "$path is setuid root"
  else
    problem "$path is neither setuid root nor has $want" "sudo chmod u+s $path"
  fi
}

persist_udev() { # KERNEL-NAME
  local dir=$ETC/udev/rules.d file
  file=$dir/60-rrun.rules
  mkdir -p -- "$dir"
  if ! grep -qs "KERNEL==\"$1\"" "$file"; then
    printf 'KERNEL=="%s", MODE="0666"\n' "$1" >>"$file"
  fi
}

check_device() { # PATH KERNEL-NAME WHAT-FOR
  local dev=$1 mode
  if [[ ! -c $dev ]]; then
    problem "$dev is missing ($3)" "sudo modprobe ${2/tun/tun}"
    return
  fi
  mode=$(stat -c %a -- "$dev")
  if (((8#$mode & 8#006) == 8#006)); then
    pass "$dev is mode $mode"
  elif ((DO_FIX)); then
    chmod 0666 -- "$dev"
    persist_udev "$2"
    fixed "$dev is mode 0666 (was $mode; kept in $ETC/udev/rules.d/60-rrun.rules)"
  else
    problem "$dev is mode $mode, not usable by users ($3)" "sudo chmod 0666 $dev"
  fi
}

check_program() { # PROGRAM PACKAGE WHAT-FOR
  if PATH=$PATH:/usr/sbin:/usr/bin:/sbin:/bin command -v "$1" >/dev/null; then
    pass "$1 is installed"
  else
    problem "$1 is not installed ($3)" "sudo apt-get install $2"
  fi
}

check_library() { # SONAME PACKAGE WHAT-FOR
  local cache
  # Not `ldconfig -p | grep -q`: grep -q exits at the first match, ldconfig then dies of
  # SIGPIPE, and under pipefail that reads as "not installed".
  cache=$(ldconfig -p 2>/dev/null || true)
  if grep -qF "$1" <<<"$cache"; then
    pass "$1 is installed"
  else
    problem "$1 is not installed ($3)" "sudo apt-get install $2"
  fi
}

find_rrun() {
  if [[ -n $RRUN_PATH ]]; then
    printf '%s\n' "$RRUN_PATH"
  else
    command -v rrun || printf '%s\n' /usr/local/bin/rrun
  fi
}

# Ubuntu 23.10+ blocks unprivileged user namespaces unless an AppArmor profile allows
# them for that program; it ships such profiles for browsers and podman. Do the same for
# rrun instead of turning the protection off for everyone.
check_apparmor() {
  local knob=/proc/sys/kernel/apparmor_restrict_unprivileged_userns profile rrun
  [[ -r $knob && $(<"$knob") == 1 ]] || return 0
  profile=$ETC/apparmor.d/rrun
  rrun=$(find_rrun)
  if [[ -f $profile ]] && grep -qF "$rrun" "$profile"; then
    pass "AppArmor profile $profile allows user namespaces for $rrun"
    return
  fi
  if ((DO_FIX)); then
    mkdir -p -- "$ETC/apparmor.d"
    cat >"$profile" <<EOF
# Written by $PROG: lets rrun create user namespaces while
# kernel.apparmor_restrict_unprivileged_userns=1 (as Ubuntu's profiles do for podman).
abi <abi/4.0>,
include <tunables/global>

profile rrun $rrun flags=(unconfined) {
  userns,

  # Site-specific additions and overrides. See local/README for details.
  include if exists <local/rrun>
}
EOF
    if [[ $ETC == /etc ]] && command -v apparmor_parser >/dev/null; then
      apparmor_parser -r -- "$profile" || {
        problem "cannot load $profile" "sudo apparmor_parser -r $profile"
        return
      }
    fi
    fixed "AppArmor profile $profile allows user namespaces for $rrun"
  else
    problem "kernel.apparmor_restrict_unprivileged_userns = 1 and no AppArmor profile for $rrun" \
      "sudo $PROG --fix"
  fi
}

check_host() {
  check_map_helper newuidmap
  check_map_helper newgidmap
  # shellcheck disable=SC2016 # the tests are evaluated later with $value set
  check_sysctl user.max_user_namespaces "user namespaces are disabled" '((value > 0))' 15000
  # shellcheck disable=SC2016
  check_sysctl kernel.unprivileged_userns_clone "users cannot create user namespaces" \
    '((value == 1))' 1
  check_apparmor
  check_device "$DEV/fuse" fuse "fuse-overlayfs needs it"
  check_device "$DEV/net/tun" tun "the container network needs it"
  check_program fuse-overlayfs fuse-overlayfs "the image layer driver where kernel overlay is refused"
  check_library libslirp.so.0 libslirp0 "the user-mode network"
  check_overlaps
}

# ---------------------------------------------------------------- main

if ((EUID != 0)) && { [[ $MODE != check ]] || ((DO_FIX)); } && ((DRY_RUN == 0)); then
  [[ -w $ETC ]] || {
    warn "this changes $ETC/subuid and $ETC/subgid and needs root"
    printf 'hint: run: sudo %s %s\n' "$0" "${USERS[*]:-}" >&2
    exit 2
  }
fi

STAGE=$(mktemp -d)

case $MODE in
add)
  if ((DO_ALL)); then
    mapfile -t USERS < <(human_users)
    ((${#USERS[@]})) || say "no human accounts found (UID_MIN..UID_MAX with a login shell)"
  fi
  if ((${#USERS[@]})); then
    add_users "${USERS[@]}"
  fi
  if ((DO_FIX)); then
    check_host
  fi
  ;;
remove)
  remove_users
  ;;
check)
  check_host
  for u in "${USERS[@]}"; do
    check_user "$u"
  done
  ;;
esac

if ((PROBLEMS)); then
  exit 1
fi
exit 0
