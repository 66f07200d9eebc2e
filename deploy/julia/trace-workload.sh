#!/usr/bin/env bash
# Records what the driver compiles while it serves deploy/julia/workload.jsonl: the same
# --trace-compile statements a worker records from real traffic (trace-compile-dir).
#   deploy/julia/trace-workload.sh DRIVER.jl OUT.jl [JULIA_FLAGS...]
set -euo pipefail
driver=$1
out=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
julia --startup-file=no --history-file=no --color=no --threads=2 "$@" --trace-compile="$out" "$driver" \
  < "$here/workload.jsonl" > "$out.frames"
# Every request must have been answered, or the recording missed the paths that failed.
answered=$(grep -c '"ev":"done"' "$out.frames" || true)
expected=$(grep -c '"op":"exec"' "$here/workload.jsonl")
if [[ $answered -ne $expected ]]; then
  echo "trace-workload: the driver answered $answered of $expected requests; frames in $out.frames" >&2
  exit 1
fi
echo "trace-workload: $(wc -l < "$out") precompile statements in $out" >&2
