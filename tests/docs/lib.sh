# Shared by the docs tests. Usage: source lib.sh BIN SRC
set -euo pipefail
BIN=$1
SRC=$2  # used by the scripts that source this
export SRC
TEST_NAME=$(basename "$0" .sh)
FAILURES=0

fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

skip() {
  echo "SKIP: $*" >&2
  exit 77
}

need() {
  local tool
  for tool; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
  done
}

finish() {
  if ((FAILURES)); then
    echo "$TEST_NAME: $FAILURES failure(s)" >&2
    exit 1
  fi
  echo "$TEST_NAME: ok"
}

# A scratch directory, removed at exit.
scratch() {
  SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/treerun-$TEST_NAME.XXXXXX")
  trap 'rm -rf "$SCRATCH"' EXIT
}

# The long options that `treerun [CMD] --help` lists, one a line (for CMD in "$@").
help_long_options() {
  local cmd
  for cmd; do
    # shellcheck disable=SC2086
    "$BIN" $cmd --help | grep -oE '(^|[ ,])--[a-z][a-z0-9-]*' | sed 's/^[ ,]*//'
  done | sort -u
}

# The short options, the same way.
help_short_options() {
  local cmd
  for cmd; do
    # shellcheck disable=SC2086
    "$BIN" $cmd --help | grep -oE '^ +-[a-zA-Z]\b' | tr -d ' '
  done | sort -u
}

# The subcommands that `treerun --help` lists.
help_subcommands() {
  "$BIN" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'
}

# Every word of "$2" must be among the lines of "$1" (a what-for label in $3).
expect_all() {
  local got=$1 want=$2 label=$3 w
  for w in $want; do
    grep -qxF -- "$w" <<<"$got" || fail "$label: '$w' not offered (got: ${got//$'\n'/ })"
  done
}

# No line of "$1" may be outside the words of "$2".
expect_only() {
  local got=$1 allowed=$2 label=$3 line
  while IFS= read -r line; do
    [[ -z $line ]] && continue
    [[ " $allowed " == *" $line "* ]] || fail "$label: unexpected '$line'"
  done <<<"$got"
}

# A live run named "demo" (nodes web, g, g/x) for the completions of node paths and run
# names, its socket in $SCRATCH/tmp; `treerun` on PATH, as a completion calls it.
# Call after scratch; stop_live_run ends it.
start_live_run() {
  mkdir -p "$SCRATCH/bin" "$SCRATCH/tmp" "$SCRATCH/run"
  ln -sf "$BIN" "$SCRATCH/bin/treerun"
  export PATH="$SCRATCH/bin:$PATH" TMPDIR="$SCRATCH/tmp"
  unset XDG_RUNTIME_DIR
  cat >"$SCRATCH/run/demo.yaml" <<'YAML'
children:
  - {name: web, daemon: true, cmd: [sleep, "1000"]}
  - name: g
    children:
      - {name: x, daemon: true, cmd: [sleep, "1000"]}
YAML
  "$BIN" up "$SCRATCH/run/demo.yaml" --logs none --quiet </dev/null >/dev/null 2>&1 &
  LIVE_RUN=$!
  trap 'stop_live_run; rm -rf "$SCRATCH"' EXIT
  local i
  for ((i = 0; i < 200; i++)); do  # up to 10 s for its socket to answer
    "$BIN" ps -r demo >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  fail "the live run never answered ps"
}

stop_live_run() {
  [[ -n ${LIVE_RUN:-} ]] || return 0
  kill -INT "$LIVE_RUN" 2>/dev/null || true
  wait "$LIVE_RUN" 2>/dev/null || true
  LIVE_RUN=
}
