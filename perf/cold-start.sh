#!/bin/bash
# Issue 12 item 5: `nt kernel` on the seed CNN as a whole process (start-up, tracing, JIT included) against the
# libtorch peer's whole process (`kernel --method struct --no-warmup`), alternating peer / native-AOT nt / JIT nt.
# Usage: perf/cold-start.sh [reps]   (PEER=/tmp/torch-peer/out/torch-peer; AOT_REUSE=1 keeps an earlier publish)
# Run it under `flock /tmp/heavy.lock` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-7}
peer=${PEER:-/tmp/torch-peer/out/torch-peer}
out=${OUT:-/tmp/nt-cold}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 TORCH_PEER_QUIET=1
mkdir -p "$out"
if [ "${AOT_REUSE:-0}" != 1 ] || [ ! -x "$out/aot/nt" ]; then
  command -v clang >/dev/null || { apt-get update -qq && apt-get install -y -qq clang >/dev/null; }
  dotnet publish src/Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out/aot" 2>&1 | tail -1
  dotnet build src/Cli -c Release -o "$out/jit" -v quiet -nologo | tail -1
fi
net="Conv(32,(3,3)),Relu,Conv(32,(3,3)),Relu,Conv(32,(3,3)),Flatten,Dense(10)"
"$peer" data --shape 20,32,32,3 --seed 0 --dtype float32 --out "$out/x20.npy" >/dev/null
"$peer" init --net seed-cnn --input-shape 20,32,32,3 --seed 0 --dtype float32 --out "$out/p.npz" >/dev/null
run() {  # $1 = label, rest = command; appends "seconds peakKB"
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/$label.time" "$@" >/dev/null 2>&1
  cat "$out/$label.time" >> "$out/$label.txt"
}
: > "$out/peer.txt"; : > "$out/aot.txt"; : > "$out/jit.txt"
for i in $(seq "$reps"); do
  run peer "$peer" kernel --net seed-cnn --params "$out/p.npz" --x1 "$out/x20.npy" --get ntk --method struct --no-warmup --out "$out/k-peer.npy"
  run aot "$out/aot/nt" kernel --net "$net" --seed 0 --x1 "$out/x20.npy" --out "$out/k-aot.npy"
  run jit "$out/jit/nt" kernel --net "$net" --seed 0 --x1 "$out/x20.npy" --out "$out/k-jit.npy"
done
median() { sort -n -k1 "$1" | awk '{t[NR]=$1; m[NR]=$2} END {printf "%.3f %.3f %.3f %d", t[int((NR+1)/2)], t[1], t[NR], m[int((NR+1)/2)]/1024}'; }
read -r pm pmin pmax prss <<< "$(median "$out/peer.txt")"
for v in aot jit; do
  read -r m mn mx rss <<< "$(median "$out/$v.txt")"
  printf "%s: median %.3f s [%.3f-%.3f], peak RSS %d MiB; peer struct: median %.3f s [%.3f-%.3f], %d MiB; ours/peer %.2f\n" \
    "$v" "$m" "$mn" "$mx" "$rss" "$pm" "$pmin" "$pmax" "$prss" "$(echo "$m / $pm" | bc -l)"
done
