#!/usr/bin/env bash
# Issue 13 benchmark: full optdigits 5,620^2 FCN NTK (SD, --batch-size 512), two 1-thread workers vs one local 2-thread process;
# then three workers with one killed (SIGKILL) mid-job. From the repository root:
#   X=/path/to/digits5620.npy flock /tmp/heavy.lock bash perf/cluster-bench.sh
set -u
NT=${NT:-$(pwd)/src/Cli/bin/Release/net10.0/nt}   # from the repository root, after: dotnet build src/Cli -c Release
mkdir -p ${WORK:-/tmp/nt-cluster-bench}; cd ${WORK:-/tmp/nt-cluster-bench}
X=${X:?set X to the 5,620 x 64 optdigits .npy (optdigits.tra + optdigits.tes, pixels / 16)}
NET="Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(10,W_std=1.5,b_std=0.05)"
ARGS=(kernel --net "$NET" --seed 0 --x1 $X --implementation structured-derivatives --batch-size 512)
T="/usr/bin/time -f %e_s_%M_KB"
start_worker() { # name siloport gwport [primary]
  local extra=""; [ -n "${4:-}" ] && extra="--primary 127.0.0.1:$4"
  DOTNET_PROCESSOR_COUNT=1 $T -o $1.time $NT worker --silo-port $2 --gateway-port $3 --threads 1 $extra > $1.log 2>&1 &
  echo $! > $1.pid
}
stop_worker() { kill -TERM $(pgrep -P $(cat $1.pid)) 2>/dev/null; wait $(cat $1.pid) 2>/dev/null; }
for rep in 1 2 3; do
  rm -f local.npy* cluster.npy*
  DOTNET_PROCESSOR_COUNT=2 $T -o local.time $NT "${ARGS[@]}" --out local.npy > local.out 2> local.err
  echo "rep $rep local $(cat local.time)"
  start_worker wa 11201 30201; sleep 2; start_worker wb 11202 30202 11201; sleep 4
  $T -o client.time $NT "${ARGS[@]}" --out cluster.npy --cluster 127.0.0.1:30201,127.0.0.1:30202 > cluster.out 2> cluster.err
  echo "rep $rep cluster $(cat client.time) $(grep 'done in' cluster.err)"
  stop_worker wa; stop_worker wb
  echo "rep $rep workers $(cat wa.time | tail -1) $(cat wb.time | tail -1)"
  cmp local.npy cluster.npy && echo "rep $rep IDENTICAL"
done
# Three workers, one killed (SIGKILL) 20 s into the job.
rm -f cluster3.npy*
start_worker w1 11211 30211; sleep 2; start_worker w2 11212 30212 11211; start_worker w3 11213 30213 11211; sleep 4
( sleep 20; kill -KILL $(pgrep -P $(cat w3.pid)); echo "killed w3 at $(date -u +%T)" ) & killer=$!
$T -o client3.time $NT "${ARGS[@]}" --out cluster3.npy --cluster 127.0.0.1:30211,127.0.0.1:30212,127.0.0.1:30213 > cluster3.out 2> cluster3.err
wait $killer
echo "kill run $(cat client3.time) $(grep -E 'lost|done in' cluster3.err | tr '\n' ' ')"
stop_worker w1; stop_worker w2
cmp local.npy cluster3.npy && echo "kill run IDENTICAL"
