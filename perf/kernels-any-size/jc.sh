#!/bin/bash
# DIR holds ntbin/ (a copy of src/Cli/bin/Release/net10.0) and the inputs from mknpy.py
cd "${DIR:-/tmp/i11}"
NET="Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(10,W_std=1.5,b_std=0.05)"
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "nt_jc400_f64 %e s %M KB" dotnet ntbin/nt.dll kernel --net "$NET" --seed 0 --x1 digits400.npy --vmap-axes 0 --implementation jacobian-contraction --out ./jc400b.npy
echo "end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
