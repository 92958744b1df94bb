#!/bin/bash
# DIR holds ntbin/ (a copy of src/Cli/bin/Release/net10.0) and the inputs from mknpy.py
cd "${DIR:-/tmp/i11}"
NET="Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(10,W_std=1.5,b_std=0.05)"
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "nt_sd5620_64MiB %e s %M KB" dotnet ntbin/nt.dll kernel --net "$NET" --seed 0 --x1 digits-all-f32.npy --vmap-axes 0 --implementation structured-derivatives --memory-budget 64MiB --out ./sd64.npy
echo "mid $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "nt_sd5620_default %e s %M KB" dotnet ntbin/nt.dll kernel --net "$NET" --seed 0 --x1 digits-all-f32.npy --vmap-axes 0 --implementation structured-derivatives --out ./sdmem.npy
echo "end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
TORCH_PEER_QUIET=1 /tmp/torch-peer/out/torch-peer compare --a sdmem.npy --b sd64.npy --tol 1e-5
