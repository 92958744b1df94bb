using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

namespace NeuralTangents.Tensors.Kernels;

/// <summary>
/// Register-tiled micro-kernels: an MR×NR block of C from a packed MR×kc panel of A (k-major, MR values per k) and a
/// packed kc×NR panel of B (NR values per k). NR is two SIMD vectors, so 12 accumulators + 2 B vectors + 1 broadcast
/// fit in the 16 AVX2 registers.
/// </summary>
internal static unsafe partial class Blas
{
    internal const int MR = 6;

    internal static int Nr<T>(Isa isa) => isa switch
    {
        Isa.V512 => 2 * Vector512<T>.Count,
        Isa.V256 => 2 * Vector256<T>.Count,
        _ => 8,
    };

    /// <summary>c[MR×NR] = (load ? c : 0) + a·b over kc.</summary>
    private static void MicroKernel<T>(Isa isa, int kc, T* a, T* b, T* c, nint ldc, bool load)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (isa)
        {
            case Isa.V512: Kernel512(kc, a, b, c, ldc, load); break;
            case Isa.V256: Kernel256(kc, a, b, c, ldc, load); break;
            default: KernelScalar(kc, a, b, c, ldc, load); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Fma256<T>(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (X86.Fma.IsSupported)
        {
            if (typeof(T) == typeof(float)) return X86.Fma.MultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
            if (typeof(T) == typeof(double)) return X86.Fma.MultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        }
        return x * y + acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Fma512<T>(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (X86.Avx512F.IsSupported)
        {
            if (typeof(T) == typeof(float)) return X86.Avx512F.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
            if (typeof(T) == typeof(double)) return X86.Avx512F.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
        }
        return x * y + acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static void Kernel256<T>(int kc, T* a, T* b, T* c, nint ldc, bool load) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            var ai = Vector256.Create(a[0]); c00 = Fma256(ai, b0, c00); c01 = Fma256(ai, b1, c01);
            ai = Vector256.Create(a[1]); c10 = Fma256(ai, b0, c10); c11 = Fma256(ai, b1, c11);
            ai = Vector256.Create(a[2]); c20 = Fma256(ai, b0, c20); c21 = Fma256(ai, b1, c21);
            ai = Vector256.Create(a[3]); c30 = Fma256(ai, b0, c30); c31 = Fma256(ai, b1, c31);
            ai = Vector256.Create(a[4]); c40 = Fma256(ai, b0, c40); c41 = Fma256(ai, b1, c41);
            ai = Vector256.Create(a[5]); c50 = Fma256(ai, b0, c50); c51 = Fma256(ai, b1, c51);
            a += MR;
            b += 2 * w;
        }
        Store256(c, w, load, c00, c01); c += ldc;
        Store256(c, w, load, c10, c11); c += ldc;
        Store256(c, w, load, c20, c21); c += ldc;
        Store256(c, w, load, c30, c31); c += ldc;
        Store256(c, w, load, c40, c41); c += ldc;
        Store256(c, w, load, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256<T>(T* c, int w, bool load, Vector256<T> v0, Vector256<T> v1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (load) { v0 += Vector256.Load(c); v1 += Vector256.Load(c + w); }
        Vector256.Store(v0, c);
        Vector256.Store(v1, c + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static void Kernel512<T>(int kc, T* a, T* b, T* c, nint ldc, bool load) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var ai = Vector512.Create(a[0]); c00 = Fma512(ai, b0, c00); c01 = Fma512(ai, b1, c01);
            ai = Vector512.Create(a[1]); c10 = Fma512(ai, b0, c10); c11 = Fma512(ai, b1, c11);
            ai = Vector512.Create(a[2]); c20 = Fma512(ai, b0, c20); c21 = Fma512(ai, b1, c21);
            ai = Vector512.Create(a[3]); c30 = Fma512(ai, b0, c30); c31 = Fma512(ai, b1, c31);
            ai = Vector512.Create(a[4]); c40 = Fma512(ai, b0, c40); c41 = Fma512(ai, b1, c41);
            ai = Vector512.Create(a[5]); c50 = Fma512(ai, b0, c50); c51 = Fma512(ai, b1, c51);
            a += MR;
            b += 2 * w;
        }
        Store512(c, w, load, c00, c01); c += ldc;
        Store512(c, w, load, c10, c11); c += ldc;
        Store512(c, w, load, c20, c21); c += ldc;
        Store512(c, w, load, c30, c31); c += ldc;
        Store512(c, w, load, c40, c41); c += ldc;
        Store512(c, w, load, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512<T>(T* c, int w, bool load, Vector512<T> v0, Vector512<T> v1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (load) { v0 += Vector512.Load(c); v1 += Vector512.Load(c + w); }
        Vector512.Store(v0, c);
        Vector512.Store(v1, c + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static void KernelScalar<T>(int kc, T* a, T* b, T* c, nint ldc, bool load) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int nr = 8;
        T* acc = stackalloc T[MR * nr];
        for (int i = 0; i < MR * nr; i++) acc[i] = T.Zero;
        for (int p = 0; p < kc; p++, a += MR, b += nr)
            for (int r = 0; r < MR; r++)
            {
                T ar = a[r];
                T* row = acc + r * nr;
                for (int q = 0; q < nr; q++) row[q] += ar * b[q];
            }
        for (int r = 0; r < MR; r++)
            for (int q = 0; q < nr; q++)
                c[r * ldc + q] = load ? c[r * ldc + q] + acc[r * nr + q] : acc[r * nr + q];
    }
}
