#!/usr/bin/env bash
# bench/slurm.sh [--quick] [--keep]: the Slurm backend's benchmarks (start, ctrl-c, a
# stream across hosts; bench/README.md 9-11) on the project's own two-host test cluster:
# brings it up as tests/slurm/run does (tests/slurm/cluster, as root), runs
# bench/run.sh --only slurm_start,slurm_stop,slurm_stream with the results in
# bench/results-slurm.md, and brings the cluster down whatever happened.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
if [ "$(id -u)" != 0 ]; then
  echo "bench/slurm.sh: needs root (the test cluster's slurmd runs as root)" >&2
  exit 1
fi
TMPDIR=$(mktemp -d /tmp/trbench-slurm-XXXXXX)
export TMPDIR
chmod 755 "$TMPDIR"   # munged wants every folder above its socket searchable by all
export TREERUN_SLURM_DIR=$TMPDIR/cluster
trap '"$root/tests/slurm/cluster" down >/dev/null 2>&1 || true; rm -rf "$TMPDIR"' EXIT
if ! env_lines=$("$root/tests/slurm/cluster" up 2>"$TMPDIR/up.log") || [ "$env_lines" = false ]; then
  echo "bench/slurm.sh: the local cluster did not come up: $(tail -n 1 "$TMPDIR/up.log")" >&2
  exit 1
fi
eval "$env_lines"
"$here/run.sh" --only slurm_start,slurm_stop,slurm_stream --output "$here/results-slurm.md" "$@"
