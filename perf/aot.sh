#!/usr/bin/env bash
# Native AOT `nt` vs the JIT `nt`: binary size, whole-process cold start of `nt kernel` on the seed CNN (medians of
# alternating runs), peak RSS, and whether the two kernels are bit-identical. Installs Debian's clang (the AOT
# linker) if it is missing. Usage: perf/aot.sh [reps=7]   (run it under `flock /tmp/heavy.lock` on a shared box)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-7}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
command -v clang >/dev/null || { apt-get update -qq && apt-get install -y -qq clang >/dev/null; }
out=${AOT_OUT:-/tmp/nt-aot}
rm -rf "$out" && mkdir -p "$out"
# The AOT binary is built for this machine's instruction set (as the JIT compiles for it), so Vector<T> has the JIT's
# width and the SIMD kernels sum in the same order: the kernels are then bit-identical (checked below).
# (the Cli project defaults IlcInstructionSet to native under PublishAot: this is the README's command.)
dotnet publish src/Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out/aot" 2>&1 | tee "$out/publish.log" | tail -2
warnings=$(grep -c "warning IL\|warning AOT" "$out/publish.log" || true)
echo "AOT publish warnings: $warnings"
dotnet build src/Cli -c Release -o "$out/jit" -v quiet -nologo | tail -1
python3 - "$out" <<'PY'
import struct, sys, random
def save(path, shape, rng):
    n = 1
    for s in shape: n *= s
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % ", ".join(map(str, shape))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack(f"<{n}f", *[rng.gauss(0, 1) for _ in range(n)]))
rng = random.Random(0)
save(sys.argv[1] + "/x5.npy", (5, 32, 32, 3), rng)
save(sys.argv[1] + "/x20.npy", (20, 32, 32, 3), rng)
PY
net="Conv(32,(3,3)),Relu,Conv(32,(3,3)),Relu,Conv(32,(3,3)),Flatten,Dense(10)"
run() {  # $1 = label, $2 = nt binary; prints "seconds peakKB"
  /usr/bin/time -f "%e %M" -o "$out/$1.time" "$2" kernel --net "$net" --seed 0 --x1 "$out/x5.npy" --x2 "$out/x20.npy" --out "$out/k-$1.npy" >/dev/null 2>&1
  cat "$out/$1.time"
}
: > "$out/jit.txt"; : > "$out/aot.txt"
for i in $(seq "$reps"); do run jit "$out/jit/nt" >> "$out/jit.txt"; run aot "$out/aot/nt" >> "$out/aot.txt"; done
stats() { sort -n -k1 "$1" | awk '{t[NR]=$1; m[NR]=$2} END {printf "median %.3f s (min %.3f, max %.3f), median peak RSS %d MiB\n", t[int((NR+1)/2)], t[1], t[NR], m[int((NR+1)/2)]/1024}'; }
echo "JIT (dotnet nt.dll via apphost): $(stats "$out/jit.txt")"
echo "AOT (native nt):                  $(stats "$out/aot.txt")"
echo "AOT binary: $(stat -c %s "$out/aot/nt") bytes nt + $(du -cb "$out"/aot/*.so | tail -1 | cut -f1) bytes of SkiaSharp/HarfBuzz .so (plots); JIT folder: $(du -sb "$out/jit" | cut -f1) bytes + the .NET runtime"
if cmp -s "$out/k-jit.npy" "$out/k-aot.npy"; then echo "kernels: bit-identical"; else echo "kernels: DIFFER"; exit 1; fi
