using System;

namespace LowRank;

/// <summary>Which implementation of the dense kernels (matrix product, SVD, QR, eigendecomposition, least squares) runs.</summary>
public enum BackendKind
{
    /// <summary>The system BLAS/LAPACK (OpenBLAS, or whatever libblas.so.3 and liblapack.so.3 point at), through P/Invoke.</summary>
    Native = 0,

    /// <summary>LowRank's packed SIMD matrix product and MathNet's managed factorizations: no native dependency.</summary>
    Managed = 1,
}

/// <summary>
/// Chooses and describes the dense-kernel backend. By default the native one is used when a BLAS/LAPACK loads (tried in
/// order: libopenblas.so.0, libopenblas.so, then libblas.so.3 with liblapack.so.3; the usual OpenBLAS names on macOS and
/// Windows), else the managed one. The environment variable <c>LOWRANK_BACKEND=native|managed</c> overrides the default
/// at start-up; <see cref="Select(BackendKind)"/> overrides both.
/// </summary>
public static class Backend
{
    /// <summary>Whether a native BLAS/LAPACK with every routine LowRank needs could be loaded.</summary>
    public static bool IsNativeAvailable => Core.Backend.IsNativeAvailable();

    /// <summary>The backend in use.</summary>
    /// <exception cref="InvalidOperationException">LOWRANK_BACKEND holds an unknown value, or asks for native when none
    /// loads.</exception>
    public static BackendKind Current =>
        Core.Backend.Current().IsNative ? BackendKind.Native : BackendKind.Managed;

    /// <summary>Selects the backend for the whole process, from the next kernel call on.</summary>
    /// <param name="kind">The backend to use.</param>
    /// <exception cref="InvalidOperationException"><paramref name="kind"/> is Native but no BLAS/LAPACK loads.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined value.</exception>
    /// <remarks>Results of the two backends agree to rounding, not bit for bit.</remarks>
    public static void Select(BackendKind kind) =>
        Core.Backend.Select(kind switch
        {
            BackendKind.Native => Core.BackendKind.Native,
            BackendKind.Managed => Core.BackendKind.Managed,
            _ => throw new ArgumentOutOfRangeException(
                nameof(kind), kind, $"Expected BackendKind.Native or BackendKind.Managed, but kind = {(int)kind}."),
        });

    /// <summary>
    /// Sets the native BLAS's thread count (OpenBLAS only), for instance to 1 when LowRank is called from several threads
    /// at once, so that BLAS threads do not oversubscribe the cores.
    /// </summary>
    /// <param name="count">Threads, at least 1.</param>
    /// <returns>False when no native library is loaded or it has no thread control.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public static bool SetNativeThreads(int count) => Core.Backend.SetNativeThreads(count);

    /// <summary>
    /// A one-line description of the backend in use: its kind, library and build, thread count, or the managed kernel's
    /// SIMD width. The CLI and benchmarks print it.
    /// </summary>
    /// <returns>For example "native: libopenblas.so.0 (OpenBLAS 0.3.21 ...), 2 threads".</returns>
    public static string Describe() => Core.Backend.Describe();
}
