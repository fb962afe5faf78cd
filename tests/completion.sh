#!/bin/bash
# The bash completion, driven as bash drives it: the script `rrun completion bash` printed
# (or an installed one) is sourced, COMP_WORDS and COMP_CWORD are set for a command line,
# _rrun runs, and COMPREPLY must hold the candidates. TAP output.
#   tests/completion.sh RRUN [SCRIPT]   (SCRIPT: default `RRUN completion bash`)
# Static candidates only (commands, options, fixed values): they need no store. Container
# and image names: tests/integration/completion.bats.
set -uo pipefail

rrun=$(command -v "$1") || rrun=$1
[[ $rrun == /* ]] || rrun=$PWD/$rrun
script=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
# A store and config of its own: nothing of the caller's is listed.
export XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config XDG_RUNTIME_DIR=$tmp/run
export RRUN_SYSTEM_CONFIG=$tmp/none.conf
mkdir -p "$tmp/run" && chmod 700 "$tmp/run"

if [[ -n $script ]]; then
  # shellcheck disable=SC1090
  source "$script" || { echo "1..1"; echo "not ok 1 source $script"; exit 0; }
else
  # shellcheck disable=SC1090
  source <("$rrun" completion bash) || { echo "1..1"; echo "not ok 1 source"; exit 0; }
fi

n=0
# check 'WORDS...' -- EXPECTED...: complete the last word of WORDS (the one after rrun)
# and require every EXPECTED in COMPREPLY ("!X": X must not be there).
check() {
  local -a words=("$rrun") want=()
  while [[ $1 != -- ]]; do words+=("$1"); shift; done
  shift
  want=("$@")
  COMP_WORDS=("${words[@]}")
  COMP_CWORD=$((${#words[@]} - 1))
  COMP_LINE="${words[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _rrun rrun "${words[-1]}" "${words[-2]}"
  local w ok=1 have=" ${COMPREPLY[*]} "
  for w in "${want[@]}"; do
    if [[ $w == !* ]]; then
      [[ $have != *" ${w#!} "* ]] || { ok=0; echo "# unexpected: ${w#!}"; }
    else
      [[ $have == *" $w "* ]] || { ok=0; echo "# missing: $w"; }
    fi
  done
  n=$((n + 1))
  if ((ok)); then
    echo "ok $n rrun ${words[*]:1}<TAB>"
  else
    echo "not ok $n rrun ${words[*]:1}<TAB>"
    echo "# COMPREPLY: ${COMPREPLY[*]}"
  fi
}

# Every command and subcommand hands its options over (it parses with rrun_cli_parse or
# rrun_cli_parse_args before doing anything): each lists --help. help itself parses none.
every_command_read() {
  local c s missing=()
  for c in $("$rrun" __complete '' | tail -n +2 | cut -f1); do
    [[ $c == help ]] && continue
    # Captured first: grep -q stops reading at its match, and a long option list would
    # die of SIGPIPE, which pipefail counts as a failure.
    [[ $'\n'$("$rrun" __complete "$c" -) == *$'\n--help'* ]] && continue
    # a group (no options of its own): its subcommands, if it has any
    s=$("$rrun" __complete "$c" '' | tail -n +2 | cut -f1)
    if [[ -z $s ]]; then
      missing+=("$c")
      continue
    fi
    for s in $s; do
      [[ $'\n'$("$rrun" __complete "$c" "$s" -) == *$'\n--help'* ]] || missing+=("$c $s")
    done
  done
  if ((${#missing[@]})); then
    printf '# options not read: rrun %s\n' "${missing[@]}"
    return 1
  fi
}

echo "1..14"
check '' -- run ps images image container system completion '!__internal' '!__complete'
check ru -- run '!ps'
check run --net -- --network '!--name'
check run --network '' -- slirp none host container: ns:
check run --network=h -- --network=host
check --log-level '' -- error warning info debug
check image '' -- ls rm inspect prune '!run'
check image ls --q -- --quiet
check system c -- check '!reset'
check completion '' -- bash zsh fish
check help st -- start stop stats '!run'
check run --pull '' -- missing always never
# after the image comes the container's command: files of this directory
touch "$tmp/file-for-completion"
cd "$tmp" && check run img file-for -- file-for-completion
if every_command_read; then echo "ok 14 every command's options are read"; else
  echo "not ok 14 every command's options are read"
fi
