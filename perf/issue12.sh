#!/usr/bin/env bash
# Issue 12's whole scoreboard in one run (run it on a quiet machine; each step takes /tmp/heavy.lock itself):
#   1. ratios: vs-peer, 3 rounds × 5 warm calls per side and row (separate processes, alternating);
#   2. steady calls: vs-peer, 1 round × 15 warm calls in one process per side (max/min over the 15);
#   2b. the same after our process's tiered JIT has settled (vs-peer --settle: BenchmarkDotNet-style warm-up);
#   3. NtkVectorProducts vs its cost model (vp-check, 15 warm calls, SGEMM rate measured in the same process);
#   4. JacobianContraction's contraction vs our DGEMM (jc-probe, digits N = 400, float64);
#   5. cold start: whole-process `nt kernel` (native AOT and JIT) vs the peer (cold-start.sh).
# Usage: perf/issue12.sh [LOG]   (default /tmp/issue12-<time>.log; HEAVY=1 adds the digits-jc row, ~2 min more)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
log="${1:-/tmp/issue12-$(date -u +%H%M).log}"
rows=cnn,cnn-full,fcn,fcn-full,digits,fcn-vp
light=$rows
[ "${HEAVY:-0}" = 1 ] && rows="$rows,digits-jc"
dll="$root/perf/NeuralTangents.Perf/bin/Release/net10.0/NeuralTangents.Perf.dll"
step() { echo; echo "## $* ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"; }
{
  echo "# issue 12 scoreboard, $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, main at $(git -C "$root" rev-parse --short HEAD)"
  step "1. ratios: vs-peer --rounds 3 --reps 5"
  "$root/perf/vs-peer.sh" --rounds 3 --reps 5 --only "$rows"
  step "2. steady calls: vs-peer --rounds 1 --reps 15"
  "$root/perf/vs-peer.sh" --rounds 1 --reps 15 --only "$rows"
  step "2b. steady calls after the JIT settles: vs-peer --rounds 1 --reps 15 --settle"
  # Without digits-jc: its calls take seconds each, against which tier-up bursts (tens of ms) are small; step 2 times it.
  "$root/perf/vs-peer.sh" --rounds 1 --reps 15 --settle --only "$light"
  step "3. vp-check --reps 15"
  flock /tmp/heavy.lock dotnet "$dll" vp-check --reps 15
  step "4. jc-probe 400 --reps 3"
  flock /tmp/heavy.lock dotnet "$dll" jc-probe 400 --reps 3
  step "5. cold start: cold-start.sh 5"
  flock /tmp/heavy.lock "$root/perf/cold-start.sh" 5
  step "done"
} 2>&1 | tee "$log"
