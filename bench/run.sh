#!/usr/bin/env bash
# treerun benchmarks: bench/run.sh [--quick] [--only LIST] [--keep]
# Builds the helpers (and treerun, unless $TREERUN_BIN is set) into bench/build,
# runs every benchmark, prints a Markdown table and writes bench/results.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="$here/build"
mkdir -p "$build"

CXX="${CXX:-g++}"
for tool in baseline_spawn lines stamp; do
  if [[ ! -x "$build/$tool" || "$here/$tool.cpp" -nt "$build/$tool" ]]; then
    "$CXX" -O2 -std=c++20 -Wall -Wextra -o "$build/$tool" "$here/$tool.cpp"
  fi
done

if [[ -n "${TREERUN_BIN:-}" ]]; then
  treerun="$TREERUN_BIN"
else
  echo "building treerun (Release) into $build/treerun-build ..." >&2
  if ! { cmake -S "$root" -B "$build/treerun-build" -DCMAKE_BUILD_TYPE=Release -DTREERUN_TESTS=OFF &&
          cmake --build "$build/treerun-build" -j2 --target treerun; } >"$build/build.log" 2>&1; then
    grep -E "error|Error" "$build/build.log" | tail -15 >&2
    echo "building treerun failed (full log: $build/build.log); set TREERUN_BIN to use another binary" >&2
    exit 1
  fi
  treerun="$build/treerun-build/treerun"
fi
[[ -x "$treerun" ]] || { echo "no treerun binary at $treerun" >&2; exit 1; }

exec python3 "$here/bench.py" --treerun "$treerun" --output "$here/results.md" "$@"
