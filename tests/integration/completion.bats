#!/usr/bin/env bats
# Shell completion of the names rrun knows (docs/rrun-completion.1.md): containers and
# images from the store, through the bash script `rrun completion bash` prints and
# `rrun __complete` (tests/completion.sh covers commands, options and fixed values).
# rrun-test: one pass

load helpers

# complete WORDS...: run bash's completion function for `rrun WORDS...` (the last word
# the one under the cursor) and print COMPREPLY, one candidate a line. COMP_WORDS is
# split as bash splits it, at = and : too ("container:x" is three words there).
complete_line() {
  bash -c '
    source <("$RRUN" completion bash) || exit 1
    COMP_WORDS=("$RRUN")
    for w in "$@"; do
      [[ -z $w ]] && COMP_WORDS+=("")
      while [[ $w =~ ^([^=:]*)([=:])(.*)$ ]]; do
        [[ -n ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
        COMP_WORDS+=("${BASH_REMATCH[2]}")
        w=${BASH_REMATCH[3]}
      done
      [[ -n $w ]] && COMP_WORDS+=("$w")
    done
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$RRUN $*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _rrun rrun "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
    printf "%s\n" "${COMPREPLY[@]}"' complete "$@"
}

@test "completion: container names and IDs, image names, --network container:NAME" {
  local id
  run -0 rrun create --name compl-one "$FIXTURE_IMAGE" true
  id=${output:0:12}
  run -0 complete_line rm ''
  [[ $'\n'$output$'\n' == *$'\n'compl-one$'\n'* ]]
  [[ $'\n'$output$'\n' == *$'\n'$id$'\n'* ]]
  run -0 complete_line logs compl-
  [ "$output" = compl-one ]
  # images: the stored name and its short form
  run -0 complete_line run --rm ''
  [[ $'\n'$output$'\n' == *$'\n'$FIXTURE_IMAGE$'\n'* ]]
  [[ $'\n'$output$'\n' == *$'\n'${FIXTURE_IMAGE#localhost/}$'\n'* ]]
  [[ $'\n'$output$'\n' != *$'\n'compl-one$'\n'* ]]
  run -0 complete_line rmi rrun-test-b
  [[ $'\n'$output$'\n' == *$'\n'${FIXTURE_IMAGE#localhost/}$'\n'* ]]
  [[ $'\n'$output$'\n' != *$'\n'$FIXTURE_IMAGE$'\n'* ]]
  # bash replaces what follows the colon
  run -0 complete_line run --network container:compl
  [ "$output" = compl-one ]
  run -0 complete_line run --network=ho
  [ "$output" = host ]
  # inspect takes either
  run -0 complete_line inspect ''
  [[ $'\n'$output$'\n' == *$'\n'compl-one$'\n'* ]]
  [[ $'\n'$output$'\n' == *$'\n'$FIXTURE_IMAGE$'\n'* ]]
  run -0 rrun rm compl-one
  run -0 complete_line rm compl-
  [ -z "$output" ]
}

@test "completion: --root before the command lists that store's images" {
  local other=$BATS_TEST_TMPDIR/other-root
  run -0 complete_line --root "$other" run ''
  [ -z "$output" ]
  run -0 complete_line run ''
  [[ $'\n'$output$'\n' == *$'\n'$FIXTURE_IMAGE$'\n'* ]]
}

@test "completion: zsh and fish scripts are valid" {
  if ! command -v zsh >/dev/null; then skip "zsh is not installed"; fi
  run -0 bash -c '"$RRUN" completion zsh > "$BATS_TEST_TMPDIR/_rrun" && zsh -n "$BATS_TEST_TMPDIR/_rrun"'
  if ! command -v fish >/dev/null; then skip "fish is not installed"; fi
  run -0 bash -c '"$RRUN" completion fish | fish -n'
  run -125 rrun completion tcsh
  [ "${lines[0]}" = 'rrun: completion: unknown shell "tcsh"' ]
}
