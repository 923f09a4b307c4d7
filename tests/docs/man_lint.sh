#!/usr/bin/env bash
# man/treerun.1 renders with no warnings, in mandoc and in groff.
source "$(dirname "$0")/lib.sh"
need mandoc groff
MAN=$SRC/man/treerun.1
[[ -f $MAN ]] || { echo "FAIL: $MAN is missing" >&2; exit 1; }

out=$(mandoc -Tlint -Wwarning "$MAN" 2>&1) || fail "mandoc -Tlint -Wwarning failed"
[[ -z $out ]] || fail "mandoc -Tlint -Wwarning:"$'\n'"$out"

err=$(groff -man -Tutf8 -ww "$MAN" 2>&1 >/dev/null) || fail "groff failed"
[[ -z $err ]] || fail "groff -man -Tutf8 -ww:"$'\n'"$err"

# What man(1) itself does with it (preprocessors included), when man-db is here.
if command -v man >/dev/null; then
  err=$(MANWIDTH=80 man --warnings=w -l "$MAN" 2>&1 >/dev/null) || fail "man -l failed"
  [[ -z $err ]] || fail "man --warnings -l:"$'\n'"$err"
fi

# Every section the page promises.
for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "THE SPEC" SEMANTICS \
  "EXIT STATUS" SIGNALS "EVENT LOG" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
  grep -qx "\.SH \"\?$section\"\?" "$MAN" || fail "no section $section"
done
finish
