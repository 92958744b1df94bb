#!/bin/bash
# DIR holds ntbin/ (a copy of src/Cli/bin/Release/net10.0) and the inputs from mknpy.py
cd "${DIR:-/tmp/i11}"
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "nt_vp_seedfcn %e s %M KB" dotnet ntbin/nt.dll kernel --net "Flatten,Dense(1024),Relu,Dense(1024),Relu,Dense(100)" --seed 0 --x1 seedx.npy --vmap-axes 0 --implementation ntk-vector-products --out ./vp.npy
echo "mid $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
TORCH_PEER_QUIET=1 /usr/bin/time -f "peer_jac400_f64 %e s %M KB" /tmp/torch-peer/out/torch-peer bench --net digits-fcn --n 400 --repeat 1 --dtype float64 --method jac
echo "end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
