#!/usr/bin/env bash
# completions/treerun.bash: source it, call its function with COMP_WORDS/COMP_CWORD set,
# and check what it offers; every option of --help must be offered.
source "$(dirname "$0")/lib.sh"
COMPLETION=$SRC/completions/treerun.bash
scratch
cd "$SCRATCH"
mkdir sub
touch a.yaml b.yml notes.txt "with space.yaml" sub/c.yaml

# Offers for one command line (the last word is the one being completed), one a line.
offers() {
  bash --norc --noprofile -c '
    source "$1" || exit 1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    _treerun || exit 1
    printf "%s\n" "${COMPREPLY[@]}"
  ' completion "$COMPLETION" "$@"
}

bash -n "$COMPLETION" || fail "bash -n"
bash --norc --noprofile -c 'source "$1" && complete -p treerun' _ "$COMPLETION" | grep -q _treerun ||
  fail "sourcing does not register a completion for treerun"

expect_all "$(offers treerun u)" "up" "treerun u<TAB>"
expect_only "$(offers treerun u)" "up" "treerun u<TAB>"
expect_all "$(offers treerun '')" "$(help_subcommands)" "treerun <TAB>"
expect_all "$(offers treerun --)" "--help --version" "treerun --<TAB>"
expect_all "$(offers treerun up --lo)" "--logs" "treerun up --lo<TAB>"
expect_all "$(offers treerun up -)" "$(help_long_options up) $(help_short_options up)" "treerun up -<TAB>"
expect_all "$(offers treerun check -)" "$(help_long_options check)" "treerun check -<TAB>"
expect_all "$(offers treerun tree -)" "$(help_long_options tree)" "treerun tree -<TAB>"
expect_all "$(offers treerun tree --)" "--json" "treerun tree --<TAB>"
expect_all "$(offers treerun up --logs '')" "stdout stderr none a.yaml notes.txt" "treerun up --logs <TAB>"
expect_all "$(offers treerun up --logs st)" "stdout stderr" "treerun up --logs st<TAB>"
expect_all "$(offers treerun up --logs = st)" "stdout stderr" "treerun up --logs=st<TAB> (split at =)"
expect_all "$(offers treerun up --logs=st)" "--logs=stdout --logs=stderr" "treerun up --logs=st<TAB> (one word)"
expect_all "$(offers treerun up --timeout '')" "500ms 1s 5s 30s 1m" "treerun up --timeout <TAB>"
expect_all "$(offers treerun up --grace '')" "500ms 1s 5s 30s 1m" "treerun up --grace <TAB>"
expect_all "$(offers treerun up --events '')" "a.yaml notes.txt sub" "treerun up --events <TAB>"

# SPEC: spec files and folders, not other files; file names with spaces stay whole.
for cmd in up check tree; do
  got=$(offers treerun $cmd '')
  expect_all "$got" "a.yaml b.yml sub" "treerun $cmd <TAB>"
  grep -qxF "with space.yaml" <<<"$got" || fail "treerun $cmd <TAB>: 'with space.yaml' not offered whole"
  grep -qxF notes.txt <<<"$got" && fail "treerun $cmd <TAB>: offers notes.txt"
done
expect_all "$(offers treerun up sub/)" "sub/c.yaml" "treerun up sub/<TAB>"
expect_all "$(offers treerun up --timeout 5s a)" "a.yaml" "treerun up --timeout 5s a<TAB>"
[[ -z $(offers treerun up a.yaml '') ]] || fail "treerun up a.yaml <TAB>: offers a second SPEC"
[[ -z $(offers treerun tree a.yaml '') ]] || fail "treerun tree a.yaml <TAB>: offers a second SPEC"
expect_all "$(offers treerun check a.yaml '')" "a.yaml b.yml sub" "treerun check a.yaml <TAB> (several SPECs)"
expect_all "$(offers treerun help '')" "up check tree import" "treerun help <TAB>"

# --env-file takes a file, on up, check and tree; import takes a kind, then a file.
for cmd in up check tree; do
  expect_all "$(offers treerun $cmd --env-file '')" "a.yaml notes.txt" "treerun $cmd --env-file <TAB>"
done
expect_only "$(offers treerun import '')" "procfile" "treerun import <TAB>"
expect_all "$(offers treerun import procfile '')" "notes.txt sub" "treerun import procfile <TAB>"
[[ -z $(offers treerun import procfile notes.txt '') ]] || fail "treerun import procfile FILE <TAB>: offers more"

# NODE: after a SPEC, its node paths (as `treerun tree --json` gives them); a first word
# that is no spec is a node of treerun.yaml.
PATH=$(dirname "$BIN"):$PATH
printf 'children:\n  - {name: db, cmd: x}\n  - {name: web, replicas: 2, cmd: x}\n' >dev.yaml
expect_all "$(offers treerun up dev.yaml '')" "db web web/0 web/1" "treerun up dev.yaml <TAB>"
expect_only "$(offers treerun tree dev.yaml --env-file notes.txt w)" "web web/0 web/1" "treerun tree dev.yaml w<TAB>"
cp dev.yaml treerun.yaml
expect_all "$(offers treerun up '')" "a.yaml db web/1" "treerun up <TAB> (with a treerun.yaml)"
expect_all "$(offers treerun up db '')" "web/0" "treerun up db <TAB>"
rm treerun.yaml

# The commands of a running tree: their options, signal names, and with a run live, its
# node paths and its name.
for cmd in ls ps logs events stop start restart signal down wait; do
  expect_all "$(offers treerun $cmd -)" "$(help_long_options $cmd) $(help_short_options $cmd)" "treerun $cmd -<TAB>"
done
expect_all "$(offers treerun help '')" "ps logs stop signal down wait" "treerun help <TAB> (client commands)"
expect_all "$(offers treerun signal '')" "SIGHUP SIGTERM SIGUSR1" "treerun signal <TAB>"
expect_all "$(offers treerun logs -n '')" "10 100" "treerun logs -n <TAB>"
[[ -z $(offers treerun stop '') ]] || fail "treerun stop <TAB> offers nodes with no run live"
start_live_run
expect_all "$(offers treerun stop '')" "web g g/x" "treerun stop <TAB> (a live run)"
expect_all "$(offers treerun restart web '')" "web g g/x" "treerun restart web <TAB>"
expect_only "$(offers treerun start g)" "g g/x" "treerun start g<TAB>"
expect_all "$(offers treerun signal SIGHUP '')" "web g/x" "treerun signal SIGHUP <TAB>"
expect_all "$(offers treerun logs -f -r demo '')" "web g g/x" "treerun logs -f -r demo <TAB>"
[[ -z $(offers treerun logs -r nope '') ]] || fail "treerun logs -r nope <TAB>: offers another run's nodes"
expect_all "$(offers treerun ps -r '')" "demo" "treerun ps -r <TAB>"
expect_all "$(offers treerun ps --run = d)" "demo" "treerun ps --run=d<TAB> (split at =)"
stop_live_run

# With the bash-completion package loaded first, it still works the same.
if [[ -r /usr/share/bash-completion/bash_completion ]]; then
  got=$(bash --norc --noprofile -c '
    source /usr/share/bash-completion/bash_completion >/dev/null 2>&1
    source "$1" || exit 1
    COMP_WORDS=(treerun up --logs "")
    COMP_CWORD=3
    _treerun && printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION")
  expect_all "$got" "stdout stderr none" "with bash-completion loaded: treerun up --logs <TAB>"
fi
finish
