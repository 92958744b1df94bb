#!/usr/bin/env bash
# Peak RSS and time of whole `nt kernel` processes for the memory-test workloads, two builds side by side (A/B, two
# rounds, alternating). Used for the memory pacer change (perf/README.md, "Issue 12 scoreboard, two runs, 2026-12-05").
# Usage: perf/nt-mem-ab.sh NT_A NT_B X_CNN   (X_CNN: a (20,32,32,3) float32 .npy, e.g. the seed CNN input)
set -uo pipefail
a=$1 b=$2 x=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cnn="Conv(32,(3,3)),Relu,Conv(32,(3,3)),Relu,Conv(32,(3,3)),Flatten,Dense(10)"
fcn="Dense(256,W_std=1.5,b_std=0.05),Relu,Dense(256,W_std=1.5,b_std=0.05),Relu,Dense(10,W_std=1.5,b_std=0.05)"
# x (80, 64) float64 for the FCN rows, as MemoryEstimateTests builds it (values need not match).
python3 - "$tmp/x80.npy" <<'PY'
import struct, random, sys
random.seed(3); n, d = 80, 64
h = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (n, d); h += ' ' * (118 - len(h)) + '\n'
with open(sys.argv[1], 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode())
    f.write(struct.pack('<%dd' % (n * d), *[random.uniform(-1, 1) for _ in range(n * d)]))
PY
run() {
  local label=$1 bin=$2; shift 2; rm -f "$tmp/k.npy"
  local out; out=$( { flock /tmp/heavy.lock /usr/bin/time -f "peak_rss_kb %M" "$bin" kernel "$@" --out "$tmp/k.npy" 2>&1 >/dev/null; } 2>&1 )
  echo "$label $(grep -o 'done in [0-9.]* s' <<<"$out") $(grep -o 'estimated [0-9,.]* MiB)' <<<"$out" | tail -1) $(grep '^peak_rss_kb' <<<"$out")"
}
for round in 1 2; do
  for side in A B; do
    [ $side = A ] && nt=$a || nt=$b
    run "$side jc-tiled-150MiB" "$nt" --net "$cnn" --seed 3 --x1 "$x" --vmap-axes 0 --implementation jacobian-contraction --memory-budget 150MiB
    run "$side jc-whole" "$nt" --net "$cnn" --seed 3 --x1 "$x" --vmap-axes 0 --implementation jacobian-contraction
    run "$side jc-vmap-none-256MiB" "$nt" --net "$fcn" --seed 0 --x1 "$tmp/x80.npy" --vmap-axes none --dtype float64 --implementation jacobian-contraction --memory-budget 256MiB
    run "$side jc-vmap-none-whole" "$nt" --net "$fcn" --seed 0 --x1 "$tmp/x80.npy" --vmap-axes none --dtype float64 --implementation jacobian-contraction
    run "$side sd" "$nt" --net "$cnn" --seed 3 --x1 "$x" --vmap-axes 0
    run "$side ntk-vp" "$nt" --net "$cnn" --seed 3 --x1 "$x" --vmap-axes 0 --implementation ntk-vector-products
    run "$side cnn-jc-vmap-none" "$nt" --net "$cnn" --seed 3 --x1 "$x" --vmap-axes none --implementation jacobian-contraction
  done
done | sort -k2,2 -k1,1 -s
