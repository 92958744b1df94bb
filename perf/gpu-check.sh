#!/usr/bin/env bash
# GPU check for a CUDA machine (e.g. 1× H200, 16 cores): build Release, run the GPU tests, measure cuBLAS GEMM.
# Everything is printed; the whole run is bounded to well under 8 minutes by per-step timeouts.
#
#   perf/gpu-check.sh              build (needs NuGet restore, i.e. network or a warm package cache), test, measure
#   perf/gpu-check.sh --no-build   use Release outputs already present (e.g. built elsewhere and carried over)
#
# Environment: NEURALTANGENTS_CUDA_PATH may name extra folders holding libcudart/libcublas.
# Exit status: 0 all good; otherwise the first failing step's status.
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=1
[[ "${1:-}" == "--no-build" ]] && BUILD=0
status=0
step() { echo; echo "==== $* ($(date +%T))"; }
fail() { local rc=$1; shift; echo "!!!! $* failed with status $rc"; [[ $status -eq 0 ]] && status=$rc; }

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi not available"
nproc
dotnet --version || { echo "dotnet not on PATH"; exit 127; }
ls -1 /usr/local/cuda/lib64/libcudart.so* /usr/local/cuda/lib64/libcublas.so* 2>/dev/null | head -n 8 || true
ldconfig -p 2>/dev/null | grep -E 'libcudart|libcublas\.so' | head -n 8 || true

if [[ $BUILD -eq 1 ]]; then
  step "build Release"
  timeout 240 dotnet build NeuralTangents.sln -c Release -nologo -v minimal 2>&1 | tail -n 30
  rc=${PIPESTATUS[0]}; [[ $rc -ne 0 ]] && { fail $rc "build"; exit $status; }
fi

TEST_DLL=tests/NeuralTangents.Tests/bin/Release/net10.0/NeuralTangents.Tests.dll
PERF_DLL=perf/NeuralTangents.Perf/bin/Release/net10.0/NeuralTangents.Perf.dll

step "GPU tests (Category=Gpu)"
# Passing the built assembly avoids any restore/build; detailed verbosity shows each test and any skip reason.
timeout 180 dotnet test "$TEST_DLL" --filter "Category=Gpu" --logger "console;verbosity=detailed" 2>&1 | tail -n 80
rc=${PIPESTATUS[0]}; [[ $rc -ne 0 ]] && fail $rc "GPU tests"

step "CUDA unit tests that run everywhere (FullyQualifiedName~Cuda)"
timeout 120 dotnet test "$TEST_DLL" --filter "FullyQualifiedName~NeuralTangents.Tests.Cuda&Category!=Gpu" 2>&1 | tail -n 15
rc=${PIPESTATUS[0]}; [[ $rc -ne 0 ]] && fail $rc "CPU-side CUDA tests"

step "GEMM throughput (gpu-gemm)"
timeout 180 dotnet "$PERF_DLL" gpu-gemm --size 4096 --seconds 2 2>&1
rc=$?; [[ $rc -ne 0 ]] && fail $rc "gpu-gemm"

step "done, status $status"
exit $status
