#!/usr/bin/env bash
# GPU check for a CUDA machine (e.g. 1× H200, 16 cores): build Release, run the GPU tests, measure cuBLAS GEMM and
# the seed page's CNN NTK per implementation, GPU vs CPU. Everything is printed; each step has its own timeout so
# the whole run stays under 8 minutes (worst case: the sum of the timeouts, 465 s + start-up).
#
#   perf/gpu-check.sh              build (needs NuGet restore, i.e. network or a warm package cache), test, measure
#   perf/gpu-check.sh --no-build   use Release outputs already present (built elsewhere and carried over:
#                                  tests/NeuralTangents.Tests/bin/Release and perf/NeuralTangents.Perf/bin/Release)
#
# Environment: NEURALTANGENTS_CUDA_PATH may name extra folders holding libcudart/libcublas.
# Exit status: 0 all good; otherwise the first failing step's status.
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=1
[[ "${1:-}" == "--no-build" ]] && BUILD=0
status=0
t_start=$(date +%s)
step() { echo; echo "==== $* ($(date +%T), +$(( $(date +%s) - t_start )) s)"; }
fail() { local rc=$1; shift; echo "!!!! $* failed with status $rc"; [[ $status -eq 0 ]] && status=$rc; }

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi not available"
nproc
dotnet --version || { echo "dotnet not on PATH"; exit 127; }
ls -1 /usr/local/cuda/lib64/libcudart.so* /usr/local/cuda/lib64/libcublas.so* 2>/dev/null | head -n 8 || true
ldconfig -p 2>/dev/null | grep -E 'libcudart|libcublas\.so' | head -n 8 || true

if [[ $BUILD -eq 1 ]]; then
  step "build Release"
  timeout 110 dotnet build NeuralTangents.sln -c Release -nologo -v minimal 2>&1 | tail -n 30
  rc=${PIPESTATUS[0]}; [[ $rc -ne 0 ]] && { fail $rc "build"; exit $status; }
fi

TEST_DLL=tests/NeuralTangents.Tests/bin/Release/net10.0/NeuralTangents.Tests.dll
PERF_DLL=perf/NeuralTangents.Perf/bin/Release/net10.0/NeuralTangents.Perf.dll
for f in "$TEST_DLL" "$PERF_DLL"; do [[ -f $f ]] || { echo "missing $f (build first, or drop --no-build)"; exit 2; }; done

step "GPU tests (Category=Gpu): cuBLAS GEMM, CudaBackend kernels, whole NTKs vs float64 CPU"
# Passing the built assembly avoids any restore/build; detailed verbosity shows each test and any skip reason.
LOG=$(mktemp)
timeout 150 dotnet test "$TEST_DLL" --filter "Category=Gpu" --logger "console;verbosity=detailed" > "$LOG" 2>&1
rc=$?; tail -n 100 "$LOG"
[[ $rc -ne 0 ]] && fail $rc "GPU tests"
# On a GPU machine every test of this category must run: a skip means CUDA could not be used (reason printed above).
grep -Eq "Skipped: +[1-9]" "$LOG" && fail 3 "GPU tests were SKIPPED (CUDA not usable here)"
rm -f "$LOG"

step "CUDA-area tests that run everywhere (routing, emulated lowering, CLI --device)"
timeout 40 dotnet test "$TEST_DLL" --filter "FullyQualifiedName~NeuralTangents.Tests.Cuda&Category!=Gpu" 2>&1 | tail -n 15
rc=${PIPESTATUS[0]}; [[ $rc -ne 0 ]] && fail $rc "CPU-side CUDA tests"

step "GEMM throughput at 4096^2 (gpu-gemm)"
timeout 55 dotnet "$PERF_DLL" gpu-gemm --size 4096 --seconds 1 --cnn 0 2>&1
rc=$?; [[ $rc -ne 0 ]] && fail $rc "gpu-gemm"

step "seed page CNN NTK, N up to 128, per implementation, GPU vs CPU"
timeout 110 dotnet "$PERF_DLL" gpu-gemm --skip-gemm --cnn 128 --cnn-budget 30 2>&1
rc=$?; [[ $rc -ne 0 ]] && fail $rc "CNN NTK"

step "done, status $status, $(( $(date +%s) - t_start )) s in all"
exit $status
