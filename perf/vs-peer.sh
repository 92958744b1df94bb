#!/usr/bin/env bash
# Issue 12's side-by-side runner: builds (once) a copy of the torch peer and the perf project, then runs
# `NeuralTangents.Perf vs-peer` under the shared heavy-work lock. Extra arguments go to vs-peer
# (--rounds R --reps K --only cnn,fcn --heavy). PEER_DIR overrides where the peer copy lives.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peer_dir="${PEER_DIR:-/tmp/torch-peer}"
peer_src="${PEER_SRC:-$root/../shared/peers/torch-peer}"
[ -d "$peer_src" ] || peer_src=/work/shared/peers/torch-peer
if [ ! -x "$peer_dir/out/torch-peer" ]; then
  echo "building the torch peer copy in $peer_dir (TorchSharp-cpu 0.107.0 from NuGet, ~480 MB)" >&2
  mkdir -p "$peer_dir" && cp -r "$peer_src"/. "$peer_dir"/
  (cd "$peer_dir" && dotnet build -c Release -o out >&2)
fi
dotnet build "$root/perf/NeuralTangents.Perf" -c Release >&2
dll="$root/perf/NeuralTangents.Perf/bin/Release/net10.0/NeuralTangents.Perf.dll"
exec flock /tmp/heavy.lock dotnet "$dll" vs-peer --peer "$peer_dir/out/torch-peer" "$@"
