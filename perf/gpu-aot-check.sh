#!/usr/bin/env bash
# CUDA backend check of a Native AOT `nt` on a GPU machine with no .NET SDK: for the seed CNN, the seed FCN and the
# digits FCN, runs `nt kernel` with --device cpu and --device cuda for each implementation (jacobian-contraction,
# ntk-vector-products, structured-derivatives) in float32 and float64, times each whole process, and compares the
# CUDA kernel with the CPU kernel (perf/gpu-aot/npydiff.py, no NumPy needed). Each step has its own timeout and the
# runs stop at a global deadline (DEADLINE_S, default 300 s), so the script ends well inside 6 minutes.
#
# Here (with the SDK):
#   dotnet publish src/Cli -c Release -r linux-x64 -p:PublishAot=true -p:IlcInstructionSet=x86-64-v3 -o bin/aot-out
#   python3 perf/gpu-aot/mkinputs.py bin/gpu-inputs 200
# (the device tool sends its session's checkout: copy these into an ignored folder of it, e.g. bin/gpu-aot/, and carry it)
# There:   perf/gpu-aot-check.sh [NT=bin/aot-out/nt] [INPUTS=bin/gpu-inputs] [RESULTS=$OUT or /tmp/gpu-aot-check]
# Results: RESULTS/results.tsv (one row per run), RESULTS/summary.txt (cuda vs cpu per case), RESULTS/log.txt.
# Exit 3 when the probe run finds CUDA unusable (CPU_ONLY=1: run the CPU side anyway). NEURALTANGENTS_CUDA_PATH, if set, is kept in front of the folders found here.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)   # the defaults below are relative to it; arguments to the caller's folder
NT=$(realpath "${1:-$ROOT/bin/aot-out/nt}"); IN=$(realpath "${2:-$ROOT/bin/gpu-inputs}"); RES=$(realpath -m "${3:-${OUT:-/tmp/gpu-aot-check}}")
cd "$ROOT"
DEADLINE_S=${DEADLINE_S:-300}; RUN_TIMEOUT=${RUN_TIMEOUT:-45}
mkdir -p "$RES"; WORK=$(mktemp -d)
exec > >(tee "$RES/log.txt") 2>&1
t0=$(date +%s)
step() { echo; echo "==== $* ($(date -u +%T), +$(( $(date +%s) - t0 )) s)"; }

step "machine"
timeout 20 nvidia-smi 2>&1 || echo "nvidia-smi failed or absent"
timeout 10 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || true
nproc; uname -r; grep -m1 "model name" /proc/cpuinfo; grep -o 'avx512f\|avx2' /proc/cpuinfo | sort -u | tr '\n' ' '; echo

step "CUDA libraries"
timeout 10 ldconfig -p 2>/dev/null | grep -E 'libcudart|libcublas|libcudnn\.so|libcuda\.so' | head -n 20
cands=(/usr/local/cuda*/lib64 /usr/local/cuda*/targets/*/lib /usr/lib/x86_64-linux-gnu /usr/local/nvidia/lib64 /usr/local/nvidia/lib)
for sp in $(timeout 10 python3 -c 'import site,sys; print("\n".join(site.getsitepackages()+[site.getusersitepackages()]))' 2>/dev/null) /usr/local/lib/python3*/dist-packages /usr/lib/python3/dist-packages; do
  [[ -d $sp/nvidia ]] && cands+=("$sp"/nvidia/*/lib "$sp"/nvidia/*/*/lib)
done
dirs=()
for d in "${cands[@]}"; do
  [[ -d $d ]] || continue
  if compgen -G "$d/libcudart.so*" >/dev/null || compgen -G "$d/libcublas.so*" >/dev/null || compgen -G "$d/libcublasLt.so*" >/dev/null; then
    d=$(realpath "$d"); [[ " ${dirs[*]-} " == *" $d "* ]] || dirs+=("$d")
  fi
done
for d in "${dirs[@]-}"; do [[ -n $d ]] && { echo "found in $d:"; ls -1 "$d" | grep -E '^lib(cudart|cublas|cublasLt|cudnn)\.so' | sed 's/^/   /'; }; done
found=$(IFS=:; echo "${dirs[*]-}")
export NEURALTANGENTS_CUDA_PATH="${NEURALTANGENTS_CUDA_PATH:+$NEURALTANGENTS_CUDA_PATH:}$found"
export LD_LIBRARY_PATH="$found${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"   # lets libcublas find libcublasLt
echo "NEURALTANGENTS_CUDA_PATH=$NEURALTANGENTS_CUDA_PATH"

step "nt"
ls -la "$NT"; timeout 20 "$NT" --version 2>&1 | head -n 3


CNN="Conv(32,(3,3)),Relu,Conv(32,(3,3)),Relu,Conv(32,(3,3)),Flatten,Dense(10)"
FCN="Flatten,Dense(1024),Relu,Dense(1024),Relu,Dense(100)"
DIG="Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(10,W_std=1.5,b_std=0.05)"
printf "case\tdevice\tstatus\tseconds\n" > "$RES/results.tsv"
: > "$RES/summary.txt"
run_one() {  # $1 case id, $2 device, then nt kernel arguments; prints the process's seconds
  local id=$1 dev=$2; shift 2
  local s=$(date +%s.%N)
  timeout "$RUN_TIMEOUT" "$NT" kernel "$@" --device "$dev" --out "$WORK/$id-$dev.npy" > "$WORK/$id-$dev.log" 2>&1
  local rc=$? e=$(date +%s.%N)
  local sec=$(python3 -c "print('%.3f' % ($e - $s))")
  printf "%s\t%s\t%s\t%s\n" "$id" "$dev" "$rc" "$sec" >> "$RES/results.tsv"
  if [[ $rc -ne 0 ]]; then echo "  $dev FAILED rc=$rc after $sec s:"; sed 's/^/    | /' "$WORK/$id-$dev.log" | head -n 30
  else echo "  $dev ok $sec s  $(tr '\n' ' ' < "$WORK/$id-$dev.log" | cut -c1-200)"; fi
  LAST_RC=$rc; LAST_SEC=$sec
}

step "probe: one CUDA run (seed FCN, float32, structured-derivatives)"
run_one probe cuda --net "$FCN" --seed 0 --x1 "$IN/seedfcn_x.npy" --dtype float32 --implementation structured-derivatives
if [[ $LAST_RC -ne 0 ]]; then
  echo "!!!! CUDA does not work here"
  timeout 20 find / -xdev \( -name 'libcudart.so*' -o -name 'libcublas.so*' \) 2>/dev/null | head -n 20
  # Without CUDA the CPU runs alone tell nothing new: stop (saves device time) unless CPU_ONLY=1 asks for them.
  [[ ${CPU_ONLY:-0} == 1 ]] || exit 3
fi
PROBE_RC=$LAST_RC

for net in seedfcn seedcnn digits; do
  case $net in seedfcn) spec=$FCN; x=seedfcn_x.npy ;; seedcnn) spec=$CNN; x=seedcnn_x.npy ;; digits) spec=$DIG; x=digits_x.npy ;; esac
  for dt in float32 float64; do
    for impl in jacobian-contraction ntk-vector-products structured-derivatives; do
      id="$net-$dt-$impl"
      if (( $(date +%s) - t0 > DEADLINE_S )); then echo "skip $id (deadline)"; echo "$id SKIPPED (deadline)" >> "$RES/summary.txt"; continue; fi
      step "$id"
      args=(--net "$spec" --seed 0 --x1 "$IN/$x" --dtype "$dt" --implementation "$impl")
      run_one "$id" cpu "${args[@]}"; crc=$LAST_RC; csec=$LAST_SEC
      if [[ $PROBE_RC -ne 0 ]]; then echo "$id cpu=${csec}s cuda=NOT RUN" >> "$RES/summary.txt"; continue; fi
      run_one "$id" cuda "${args[@]}"; grc=$LAST_RC; gsec=$LAST_SEC
      if [[ $crc -eq 0 && $grc -eq 0 ]]; then
        cmp=$(timeout 60 python3 perf/gpu-aot/npydiff.py "$WORK/$id-cuda.npy" "$WORK/$id-cpu.npy" 2>&1 | tail -n 1)
      else cmp="no comparison (cpu rc=$crc, cuda rc=$grc)"; fi
      echo "  cuda vs cpu: $cmp"
      echo "$id cpu=${csec}s cuda=${gsec}s $cmp" >> "$RES/summary.txt"
    done
  done
done

step "summary"
column -t "$RES/summary.txt" 2>/dev/null || cat "$RES/summary.txt"
rm -rf "$WORK"
echo "total $(( $(date +%s) - t0 )) s"
