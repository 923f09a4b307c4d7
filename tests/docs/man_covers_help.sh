#!/usr/bin/env bash
# Every option and subcommand that --help lists, every spec key, event and variable of
# the contract, appears in the manual page; and the page's version is the program's.
source "$(dirname "$0")/lib.sh"
need mandoc
MAN=$SRC/man/treerun.1

# The rendered text, with no overstrike, no hyphenation and no line breaks inside words.
text=$(mandoc -Tascii -O width=250 "$MAN" | sed 's/.\x08//g')
has() { grep -qF -- "$1" <<<"$text"; }
# The rendered text of one section (NAME as in .SH).
section() { awk -v name="$1" '/^[A-Z]/ { on = ($0 == name) } on' <<<"$text"; }
spec=$(section "THE SPEC")
commands=$(section "COMMANDS")
exits=$(section "EXIT STATUS")
events=$(section "EVENT LOG")
environment=$(section "ENVIRONMENT")
has_word() { grep -qE -- "(^|[^A-Za-z0-9_-])$1([^A-Za-z0-9_-]|\$)" <<<"$text"; }

for opt in $(help_long_options "" up check tree help) $(help_short_options "" up check tree help); do
  has_word "$opt" || fail "option $opt (from --help) is not in the man page"
done
for cmd in $(help_subcommands); do
  grep -qE "^ +$cmd( |\$)" <<<"$commands" || fail "command $cmd has no entry in the man page"
done

# The spec keys (contract section 3), with their defaults where they have one.
for key in name timeout grace stop_signal logs env env_file cwd children cmd include daemon \
  after ready stop on_failure restart stdin stdout stderr tty replicas; do
  grep -qE "^ +([a-z_]+, )*$key(,| |\$)" <<<"$spec" || fail "spec key $key has no entry"
done
for word in 'log: REGEX' 'tcp: HOST:PORT' 'http: URL' 'exec: CMD' 'file: PATH' 'notify: true' \
  'interval' '{max: 3, within: 60s, backoff: 100ms}' 'lag: block' 'lag: drop' '1 MiB' \
  'Default: 3s' 'Default: SIGTERM' '(default 30s)' '(default 100ms)' 'cancel' 'ignore' 'inherit'; do
  has "$word" || fail "the man page does not say '$word'"
done

# Exit statuses, events, cancel causes, environment.
for code in 0 1-123 124 125 126 127 '128\+N'; do
  grep -qE "^ +$code( |\$)" <<<"$exits" || fail "exit status $code has no entry"
done
for event in spawn ready stop kill exit cancel lag restart 'done'; do
  grep -qE "^ +$event( |\$)" <<<"$events" || fail "event $event has no entry"
done
for word in pgid dropped_bytes attempt duration outcome sigint sigterm sighup failure; do
  has_word "$word" || fail "the event log section lacks '$word'"
done
for var in NO_COLOR TREERUN_NODE TREERUN_RUN_ID TREERUN_REPLICA TREERUN_REPLICAS NOTIFY_SOCKET TMPDIR; do
  grep -qE "^ +$var( |\$)" <<<"$environment" || fail "environment variable $var has no entry"
done
for ref in 'systemd.service(5)' 'docker-compose(1)' 'sd_notify(3)'; do
  has "$ref" || fail "SEE ALSO lacks $ref"
done

# The version in the page's footer is the program's.
version=$("$BIN" --version | awk '{ print $NF }')
grep -q "^\.TH TREERUN 1 .*\"treerun $version\"" "$MAN" ||
  fail "the .TH line does not say treerun $version: $(grep '^\.TH' "$MAN")"
finish
