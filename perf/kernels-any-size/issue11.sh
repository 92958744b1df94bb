#!/bin/bash
# Issue 11's benchmark set in one window, each run once with /usr/bin/time (wall s, peak RSS KB):
#   1. digits FCN JC, N = 400, float64, default budget — ours vs the peer's `bench --method jac` (same net/N/dtype);
#   2. full optdigits 5,620² FCN SD, float32, under --memory-budget 64MiB (disk-backed) and the default budget, compared;
#   3. the seed page's FCN example with NtkVectorProducts;
#   4. the impossible budget (--memory-budget 1024 on run 1): refused in how long, with which line;
#   5. Ctrl-C (SIGINT) during run 2's 64 MiB kernel, then --resume: exit codes and byte-identity with the uninterrupted file.
# DIR holds ntbin/ (a copy of src/Cli/bin/Release/net10.0) and the inputs written by mknpy.py; PEER the peer binary.
# Run under the heavy lock: DIR=/tmp/i11 flock /tmp/heavy.lock perf/kernels-any-size/issue11.sh
set -u
cd "${DIR:-/tmp/i11}"
PEER="${PEER:-/tmp/torch-peer/out/torch-peer}"
NET="Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(10,W_std=1.5,b_std=0.05)"
NT="dotnet ntbin/nt.dll"
stamp() { echo "== $1 $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"; }
rm -f jc400-ours.npy sd64.npy sdmem.npy sdint.npy sdint.npy.tiles.json vp.npy jcrefused.npy

stamp "1 JC N=400 float64 (ours)"
/usr/bin/time -f "ours_jc400 %e s %M KB" $NT kernel --net "$NET" --seed 0 --x1 digits400.npy --vmap-axes 0 \
  --implementation jacobian-contraction --out jc400-ours.npy 2>&1 | grep -E "done|^ours"
stamp "1 JC N=400 float64 (peer jac)"
TORCH_PEER_QUIET=1 /usr/bin/time -f "peer_jac400 %e s %M KB" "$PEER" bench --net digits-fcn --n 400 --repeat 1 \
  --dtype float64 --method jac 2>&1 | grep -E "median_seconds|^peer"

stamp "2 SD 5620² float32 64MiB"
/usr/bin/time -f "ours_sd5620_64MiB %e s %M KB" $NT kernel --net "$NET" --seed 0 --x1 digits-all-f32.npy --vmap-axes 0 \
  --implementation structured-derivatives --memory-budget 64MiB --out sd64.npy 2>&1 | grep -E "done|^ours"
stamp "2 SD 5620² float32 default budget"
/usr/bin/time -f "ours_sd5620_default %e s %M KB" $NT kernel --net "$NET" --seed 0 --x1 digits-all-f32.npy --vmap-axes 0 \
  --implementation structured-derivatives --out sdmem.npy 2>&1 | grep -E "done|^ours"
TORCH_PEER_QUIET=1 "$PEER" compare --a sdmem.npy --b sd64.npy --tol 1e-5

stamp "3 NTK-VP seed FCN"
/usr/bin/time -f "ours_vp_seedfcn %e s %M KB" $NT kernel --net "Flatten,Dense(1024),Relu,Dense(1024),Relu,Dense(100)" \
  --seed 0 --x1 seedx.npy --vmap-axes 0 --implementation ntk-vector-products --out vp.npy 2>&1 | grep -E "done|^ours"

stamp "4 impossible budget"
/usr/bin/time -f "ours_refused %e s %M KB exit %x" $NT kernel --net "$NET" --seed 0 --x1 digits400.npy --vmap-axes 0 \
  --implementation jacobian-contraction --memory-budget 1024 --out jcrefused.npy 2>&1
test -e jcrefused.npy && echo "jcrefused.npy WAS written" || echo "no file written"

stamp "5 SIGINT + resume"
# nt is started with SIGINT at its default disposition, as in a terminal (a background job of a script inherits
# SIGINT ignored, and .NET keeps an ignored SIGINT ignored).
python3 - "$NET" <<'EOF'
import subprocess, sys, time, signal, os
net = sys.argv[1]
cmd = ["dotnet", "ntbin/nt.dll", "kernel", "--net", net, "--seed", "0", "--x1", "digits-all-f32.npy", "--vmap-axes", "0",
       "--implementation", "structured-derivatives", "--memory-budget", "64MiB", "--out", "sdint.npy"]
dfl = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, preexec_fn=dfl)
time.sleep(float(os.environ.get("INTERRUPT_AFTER", "12")))
t0 = time.time(); p.send_signal(signal.SIGINT); err = p.communicate()[1]
print(f"interrupted: exit {p.returncode} after {time.time() - t0:.2f} s; manifest exists: {os.path.exists('sdint.npy.tiles.json')}")
print("stderr tail:", err.strip().splitlines()[-1] if err.strip() else "")
t0 = time.time(); r = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, preexec_fn=dfl)
print(f"resumed: exit {r.returncode} in {time.time() - t0:.1f} s; manifest left: {os.path.exists('sdint.npy.tiles.json')}")
print("stderr tail:", r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "")
EOF
cmp sdint.npy sd64.npy && echo "resumed file byte-identical to the uninterrupted 64 MiB file"
stamp end
