#!/bin/bash
# Issue 11/12's JC row, side by side in one window: ours (`nt kernel`, digits FCN 64-512-512-10, 400 optdigits rows,
# float64, --vmap-axes 0 --implementation jacobian-contraction, default 4 GiB budget) and the torch peer's
# `bench --method jac` on the same net/N/dtype, alternated ROUNDS times, each with /usr/bin/time (wall s, peak RSS KB).
# DIR holds ntbin/ (a copy of src/Cli/bin/Release/net10.0) and digits400.npy (mknpy.py); PEER is the peer binary.
# Run under the heavy lock: flock /tmp/heavy.lock perf/kernels-any-size/jc-vs-peer.sh
cd "${DIR:-/tmp/i11}"
PEER="${PEER:-/tmp/torch-peer/out/torch-peer}"
NET="Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(10,W_std=1.5,b_std=0.05)"
for r in $(seq 1 "${ROUNDS:-3}"); do
  echo "round $r start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  rm -f ./jc400-ours.npy
  /usr/bin/time -f "ours %e s %M KB" dotnet ntbin/nt.dll kernel --net "$NET" --seed 0 --x1 digits400.npy --vmap-axes 0 \
    --implementation jacobian-contraction --out ./jc400-ours.npy 2>&1 | grep -E "estimated|^ours|done"
  TORCH_PEER_QUIET=1 /usr/bin/time -f "peer %e s %M KB" "$PEER" bench --net digits-fcn --n 400 --repeat 1 --dtype float64 --method jac 2>&1 \
    | grep -E "median_seconds|^peer"
done
echo "end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
