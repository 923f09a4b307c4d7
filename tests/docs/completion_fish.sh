#!/usr/bin/env bash
# completions/treerun.fish: fish parses it, and `complete -C` completes with it.
source "$(dirname "$0")/lib.sh"
need fish
COMPLETION=$SRC/completions/treerun.fish
scratch

fish -n "$COMPLETION" || fail "fish -n"

mkdir -p "$SCRATCH/home" "$SCRATCH/work/sub"
cd "$SCRATCH/work"
touch a.yaml b.yml notes.txt "with space.yaml"

# Offers for one command line: the candidates, without their descriptions.
offers() {
  # shellcheck disable=SC2016 # fish's $argv, not ours
  env HOME="$SCRATCH/home" XDG_CONFIG_HOME="$SCRATCH/home" XDG_DATA_HOME="$SCRATCH/home" \
    XDG_CACHE_HOME="$SCRATCH/home" fish --no-config -c 'source $argv[1]; complete -C $argv[2]' \
    "$COMPLETION" "$1" | cut -f1
}

expect_all "$(offers 'treerun u')" "up" "treerun u<TAB>"
expect_only "$(offers 'treerun u')" "up" "treerun u<TAB>"
expect_all "$(offers 'treerun ')" "$(help_subcommands)" "treerun <TAB>"
expect_all "$(offers 'treerun -')" "--help --version" "treerun -<TAB>"
expect_all "$(offers 'treerun up --lo')" "--logs" "treerun up --lo<TAB>"
expect_all "$(offers 'treerun up -')" "$(help_long_options up) $(help_short_options up)" "treerun up -<TAB>"
expect_all "$(offers 'treerun up --logs ')" "stdout stderr none a.yaml notes.txt" "treerun up --logs <TAB>"
expect_all "$(offers 'treerun up --logs=st')" "--logs=stdout --logs=stderr" "treerun up --logs=st<TAB>"
expect_all "$(offers 'treerun up --timeout ')" "500ms 1s 5s 30s 1m" "treerun up --timeout <TAB>"
expect_all "$(offers 'treerun up --grace ')" "500ms 1s 5s 30s 1m" "treerun up --grace <TAB>"
expect_all "$(offers 'treerun up --events ')" "a.yaml notes.txt sub/" "treerun up --events <TAB>"
for cmd in up check tree; do
  got=$(offers "treerun $cmd ")
  expect_all "$got" "a.yaml b.yml sub/ -" "treerun $cmd <TAB>"
  grep -qxF "with space.yaml" <<<"$got" || fail "treerun $cmd <TAB>: 'with space.yaml' not offered whole"
  grep -qxF notes.txt <<<"$got" && fail "treerun $cmd <TAB>: offers notes.txt"
done
[[ -z $(offers 'treerun up a.yaml ') ]] || fail "treerun up a.yaml <TAB>: offers a second SPEC"
[[ -z $(offers 'treerun tree a.yaml ') ]] || fail "treerun tree a.yaml <TAB>: offers a second SPEC"
expect_all "$(offers 'treerun check a.yaml ')" "a.yaml b.yml sub/ -" "treerun check a.yaml <TAB> (several SPECs)"
expect_all "$(offers 'treerun help ')" "up check tree import" "treerun help <TAB>"
for cmd in up check tree; do
  expect_all "$(offers "treerun $cmd --env-file ")" "a.yaml notes.txt" "treerun $cmd --env-file <TAB>"
done
expect_only "$(offers 'treerun import ')" "procfile" "treerun import <TAB>"
expect_all "$(offers 'treerun import procfile ')" "notes.txt sub/" "treerun import procfile <TAB>"
[[ -z $(offers 'treerun import procfile notes.txt ') ]] || fail "treerun import procfile FILE <TAB>: offers more"

# NODE: after a SPEC, its node paths (from `treerun tree --json`); a first word that
# is no spec is a node of treerun.yaml.
PATH=$(dirname "$BIN"):$PATH
printf 'children:\n  - {name: db, cmd: x}\n  - {name: web, replicas: 2, cmd: x}\n' >dev.yaml
expect_all "$(offers 'treerun up dev.yaml ')" "db web web/0 web/1" "treerun up dev.yaml <TAB>"
expect_only "$(offers 'treerun tree dev.yaml --env-file notes.txt w')" "web web/0 web/1" "treerun tree dev.yaml w<TAB>"
cp dev.yaml treerun.yaml
expect_all "$(offers 'treerun up ')" "a.yaml db web/1" "treerun up <TAB> (with a treerun.yaml)"
expect_all "$(offers 'treerun up db ')" "web/0" "treerun up db <TAB>"
rm treerun.yaml
for cmd in check tree; do
  expect_all "$(offers "treerun $cmd -")" "$(help_long_options $cmd)" "treerun $cmd -<TAB>"
done

# The commands of a running tree: their options, signal names, and with a run live, its
# node paths and its name.
for cmd in ls ps logs events stop start restart signal down wait; do
  expect_all "$(offers "treerun $cmd -")" "$(help_long_options $cmd) $(help_short_options $cmd)" \
    "treerun $cmd -<TAB>"
done
expect_all "$(offers 'treerun help ')" "ps logs stop signal down wait" "treerun help <TAB> (client commands)"
expect_all "$(offers 'treerun signal ')" "SIGHUP SIGTERM" "treerun signal <TAB>"
expect_all "$(offers 'treerun logs -n ')" "10 100" "treerun logs -n <TAB>"
start_live_run
expect_all "$(offers 'treerun stop ')" "web g g/x" "treerun stop <TAB> (a live run)"
expect_all "$(offers 'treerun restart web ')" "g g/x" "treerun restart web <TAB>"
expect_all "$(offers 'treerun signal SIGHUP ')" "web g/x" "treerun signal SIGHUP <TAB>"
got=$(offers 'treerun signal SIGHUP ')
grep -qx SIGTERM <<<"$got" && fail "treerun signal SIGHUP <TAB>: offers a second signal"
expect_all "$(offers 'treerun ps -r ')" "demo" "treerun ps -r <TAB>"
expect_all "$(offers 'treerun logs -f -r demo ')" "web g g/x" "treerun logs -f -r demo <TAB>"
[[ -z $(offers 'treerun logs -r nope ') ]] || fail "treerun logs -r nope <TAB>: offers another run's nodes"
stop_live_run
finish
