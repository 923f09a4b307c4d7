# The tests: each prints `ok N` or `not ok N`; any failure fails the run.
. ./calc.sh
status=0
check() { if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1 - got $2, want $3"; status=1; fi; }
check 1 "$(add 1 2)" 3
check 2 "$(add -4 4)" 0
exit $status
