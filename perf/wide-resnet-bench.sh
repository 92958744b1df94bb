#!/bin/bash
# WideResnet(2, 2, 10) NTK on 20 optdigits images, trace [-1], float32, vmap-axes 0 (CLI default); one heavy lock for all runs.
cd "${1:-.}"   # folder with x20.npy, x20p.npy and nt-bin/
NET8="WideResnet(2,2,10,pool_window=(2,2))"
for impl in structured-derivatives jacobian-contraction ntk-vector-products auto; do
  for rep in 1 2 3; do
    /usr/bin/time -f "peakKB %M" dotnet nt-bin/nt.dll kernel --net "$NET8" --x1 x20.npy --seed 0 --dtype float32 --implementation $impl --out k8-$impl.npy > log8-$impl-$rep.txt 2>&1
    echo "8x8 $impl rep $rep: $(grep -h 'done in' log8-$impl-$rep.txt) $(grep -h peakKB log8-$impl-$rep.txt) $(grep -h 'NTK implementation' log8-$impl-$rep.txt)"
  done
done
dotnet nt-bin/nt.dll kernel --net "WideResnet(2,2,10)" --x1 x20p.npy --seed 0 --dtype float32 --explain --implementation structured-derivatives --out k32-sd.npy > log32-explain.txt 2>&1
for impl in structured-derivatives jacobian-contraction; do
  /usr/bin/time -f "peakKB %M" dotnet nt-bin/nt.dll kernel --net "WideResnet(2,2,10)" --x1 x20p.npy --seed 0 --dtype float32 --implementation $impl --out k32-$impl.npy > log32-$impl.txt 2>&1
  echo "32x32 $impl: $(grep -h 'done in' log32-$impl.txt) $(grep -h peakKB log32-$impl.txt)"
done
