#!/usr/bin/env bash
# completions/_treerun: zsh parses it, and an interactive zsh (on a pty) completes with it.
source "$(dirname "$0")/lib.sh"
need zsh timeout
COMPLETION=$SRC/completions/_treerun
HERE=$(cd "$(dirname "$0")" && pwd)
scratch

zsh -n "$COMPLETION" || fail "zsh -n"
head -1 "$COMPLETION" | grep -qx '#compdef treerun' || fail "the first line is not '#compdef treerun'"

# The completion function's folder holds nothing but it, so compinit finds only it.
mkdir "$SCRATCH/fpath" "$SCRATCH/work" "$SCRATCH/work/sub"
cp "$COMPLETION" "$SCRATCH/fpath/"
cd "$SCRATCH/work"
touch a.yaml b.yml notes.txt
printf 'children:\n  - {name: db, cmd: x}\n  - {name: web, replicas: 2, cmd: x}\n' >dev.yaml
PATH=$(dirname "$BIN"):$PATH  # node paths come from `treerun tree --json`

lines=('treerun u' 'treerun ' 'treerun up --lo' 'treerun up -' 'treerun up --logs '
  'treerun up --timeout ' 'treerun up --grace=' 'treerun up ' 'treerun check ' 'treerun check a.yaml '
  'treerun help ' 'treerun check -' 'treerun tree -' 'treerun up dev.yaml ' 'treerun tree dev.yaml db w'
  'treerun import ' 'treerun import procfile ' 'treerun up --env-file ')
client=(ls ps logs events stop start restart signal down wait)
for cmd in "${client[@]}"; do lines+=("treerun $cmd -"); done
lines+=('treerun stop ' 'treerun restart web ' 'treerun signal ' 'treerun signal SIGHUP ' 'treerun ps -r '
  'treerun logs -f -r demo ' 'treerun logs -n ')
start_live_run  # its nodes and its name, for the lines above
out=$(HOME=$SCRATCH ZDOTDIR=$SCRATCH timeout 30 zsh -f "$HERE/zsh_capture.zsh" "$SCRATCH/fpath" "${lines[@]}") ||
  fail "the zsh session failed or timed out"
offers() { awk -v line="== $1" '/^== / { on = ($0 == line); next } on' <<<"$out"; }

expect_all "$(offers 'treerun u')" "up" "treerun u<TAB>"
expect_only "$(offers 'treerun u')" "up" "treerun u<TAB>"
expect_all "$(offers 'treerun ')" "$(help_subcommands)" "treerun <TAB>"
expect_all "$(offers 'treerun up --lo')" "--logs" "treerun up --lo<TAB>"
expect_all "$(offers 'treerun up -')" "$(help_long_options up) $(help_short_options up)" "treerun up -<TAB>"
expect_all "$(offers 'treerun up --logs ')" "stdout stderr none a.yaml notes.txt" "treerun up --logs <TAB>"
expect_all "$(offers 'treerun up --timeout ')" "500ms 1s 5s 30s 1m" "treerun up --timeout <TAB>"
expect_all "$(offers 'treerun up --grace=')" "500ms 1s 5s 30s 1m" "treerun up --grace=<TAB>"
for cmd in up check; do
  got=$(offers "treerun $cmd ")
  expect_all "$got" "a.yaml b.yml sub" "treerun $cmd <TAB>"
  grep -qxF notes.txt <<<"$got" && fail "treerun $cmd <TAB>: offers notes.txt"
done
expect_all "$(offers 'treerun check a.yaml ')" "a.yaml b.yml sub" "treerun check a.yaml <TAB> (several SPECs)"
expect_all "$(offers 'treerun help ')" "up check tree import" "treerun help <TAB>"
expect_all "$(offers 'treerun up dev.yaml ')" "db web web/0 web/1" "treerun up dev.yaml <TAB>"
expect_only "$(offers 'treerun tree dev.yaml db w')" "web web/0 web/1" "treerun tree dev.yaml db w<TAB>"
expect_only "$(offers 'treerun import ')" "procfile" "treerun import <TAB>"
expect_all "$(offers 'treerun import procfile ')" "notes.txt" "treerun import procfile <TAB>"
expect_all "$(offers 'treerun up --env-file ')" "notes.txt" "treerun up --env-file <TAB>"
for cmd in check tree; do
  expect_all "$(offers "treerun $cmd -")" "$(help_long_options $cmd)" "treerun $cmd -<TAB>"
done
for cmd in "${client[@]}"; do
  expect_all "$(offers "treerun $cmd -")" "$(help_long_options $cmd) $(help_short_options $cmd)" \
    "treerun $cmd -<TAB>"
done
expect_all "$(offers 'treerun help ')" "ps logs stop signal down wait" "treerun help <TAB> (client commands)"
expect_all "$(offers 'treerun stop ')" "web g g/x" "treerun stop <TAB> (a live run)"
expect_all "$(offers 'treerun restart web ')" "g g/x" "treerun restart web <TAB>"
expect_all "$(offers 'treerun signal ')" "SIGHUP SIGTERM" "treerun signal <TAB>"
expect_all "$(offers 'treerun signal SIGHUP ')" "web g/x" "treerun signal SIGHUP <TAB>"
expect_all "$(offers 'treerun ps -r ')" "demo" "treerun ps -r <TAB>"
expect_all "$(offers 'treerun logs -f -r demo ')" "web g g/x" "treerun logs -f -r demo <TAB>"
expect_all "$(offers 'treerun logs -n ')" "10 100" "treerun logs -n <TAB>"
stop_live_run
finish
