namespace LowRank.Core

open System

/// Which implementation of the dense kernels (matrix product, SVD, QR, eigendecomposition, least squares) runs.
[<RequireQualifiedAccess>]
type BackendKind =
    /// The system BLAS/LAPACK (OpenBLAS, or whatever libblas.so.3 and liblapack.so.3 point at), through P/Invoke.
    | Native
    /// LowRank's packed SIMD matrix product and MathNet's managed factorizations: no native dependency.
    | Managed

/// Chooses and describes the dense-kernel backend. By default the native one is used when a BLAS/LAPACK loads
/// (tried in order: libopenblas.so.0, libopenblas.so, then libblas.so.3 with liblapack.so.3; the usual OpenBLAS
/// names on macOS and Windows), else the managed one. The environment variable LOWRANK_BACKEND=native|managed
/// overrides the default at start-up; Backend.select overrides both.
[<RequireQualifiedAccess>]
module Backend =

    /// <summary>Whether a native BLAS/LAPACK with every routine LowRank needs could be loaded.</summary>
    /// <returns>True when BackendKind.Native can be selected.</returns>
    [<CompiledName("IsNativeAvailable")>]
    let isNativeAvailable () = Kernels.native.Value.IsSome

    /// <summary>The backend in use.</summary>
    /// <returns>Native or Managed.</returns>
    /// <exception cref="System.InvalidOperationException">LOWRANK_BACKEND holds an unknown value, or asks for native when
    /// none loads.</exception>
    [<CompiledName("Current")>]
    let current () =
        if Kernels.current().Name = "native" then
            BackendKind.Native
        else
            BackendKind.Managed

    /// <summary>Selects the backend for the whole process, from the next kernel call on.</summary>
    /// <param name="kind">The backend to use.</param>
    /// <exception cref="System.InvalidOperationException">Native is asked for but no BLAS/LAPACK loads.</exception>
    /// <remarks>Results of the two backends agree to rounding, not bit for bit.</remarks>
    [<CompiledName("Select")>]
    let select (kind: BackendKind) =
        match kind with
        | BackendKind.Managed -> Kernels.select Kernels.managed
        | BackendKind.Native ->
            match Kernels.native.Value with
            | Some kernels -> Kernels.select kernels
            | None ->
                raise (
                    InvalidOperationException(
                        "Expected a native BLAS/LAPACK to select, but none could be loaded (tried libopenblas.so.0, libopenblas.so, libblas.so.3 with liblapack.so.3)."
                    )
                )

    /// <summary>Sets the native BLAS's thread count (OpenBLAS only), for instance to 1 when LowRank is called from
    /// several threads at once, so that BLAS threads do not oversubscribe the cores.</summary>
    /// <param name="count">Threads, at least 1.</param>
    /// <returns>False when no native library is loaded or it has no thread control.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">count is less than 1.</exception>
    [<CompiledName("SetNativeThreads")>]
    let setNativeThreads (count: int) =
        Guard.positive (nameof count) count
        isNativeAvailable () && NativeSections.setThreads count

    /// Runs `work` with independent per-matrix tasks in mind: on the native backend with OpenBLAS on t &gt; 1 threads,
    /// OpenBLAS is set to one thread for the duration and `work` is told to run t tasks side by side, then the count
    /// is restored. OpenBLAS hands even the small products and SVDs of SCW (20 x 768, 576 x 20) to its worker threads,
    /// whose hand-off and spinning cost more than they save on 2 cores (a thin SVD of a 20 x 768 matrix: 7.9 ms on 2
    /// threads, 1.5 ms on one), so t single-threaded tasks beat one multi-threaded task. Other callers in the process
    /// wait for the section to end rather than run on one BLAS thread meanwhile, because OpenBLAS's results depend on its
    /// thread count: so every result is the same whatever runs beside it. On the managed backend `work` gets the
    /// processor count.
    let internal sideBySide (work: int -> 'T) =
        let section =
            if current () = BackendKind.Native then
                NativeSections.enter ()
            else
                None

        match section with
        | Some threads ->
            // Callers outside sections wait for them (NativeSections): their results then never depend on
            // whether a section happened to be running.
            let inside = NativeSections.InSection.Value
            NativeSections.InSection.Value <- true

            try
                work threads
            finally
                NativeSections.InSection.Value <- inside
                NativeSections.leave ()
        | None when current () = BackendKind.Managed -> work Environment.ProcessorCount
        | None -> work 1

    /// `f` of every item, `workers` at a time (for sideBySide's count), returned in the items' order, so that sums
    /// over the results do not depend on the scheduling. An exception is rethrown as itself (not wrapped in an
    /// AggregateException), the one of the lowest index when several items fail, as a sequential loop would.
    let internal mapSideBySide (workers: int) (f: 'T -> 'U) (items: 'T[]) =
        let results = Array.zeroCreate items.Length

        if workers <= 1 || items.Length <= 1 then
            for q in 0 .. items.Length - 1 do
                results[q] <- f items[q]
        else
            let errors: exn option[] = Array.create items.Length None

            Threading.Tasks.Parallel.For(
                0,
                items.Length,
                Threading.Tasks.ParallelOptions(MaxDegreeOfParallelism = workers),
                fun q ->
                    try
                        results[q] <- f items[q]
                    with e ->
                        errors[q] <- Some e
            )
            |> ignore

            match errors |> Array.tryPick id with
            | Some e -> Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw()
            | None -> ()

        results

    /// <summary>A one-line description of the backend in use: its kind, the library path and build, the thread count, or
    /// the SIMD width of the managed kernel. The CLI and benchmarks print it.</summary>
    /// <returns>For example "native: libopenblas.so.0 (OpenBLAS 0.3.21 ...), 2 threads".</returns>
    [<CompiledName("Describe")>]
    let describe () =
        let managed =
            let simd =
                if ManagedGemm.wide then
                    "AVX-512"
                else
                    $"{8 * Numerics.Vector<float>.Count}-bit vectors"

            $"managed: packed {simd} gemm ({ManagedGemm.MR}x4 tile), MathNet.Numerics factorizations, {Environment.ProcessorCount} cores"

        match current (), Native.library.Value with
        | BackendKind.Native, Some lib ->
            let build =
                Native.config () |> Option.map (sprintf " (%s)") |> Option.defaultValue ""

            let threads =
                Native.threads ()
                |> Option.map (sprintf ", %d threads")
                |> Option.defaultValue ""

            let lapack =
                if lib.LapackName = lib.BlasName then
                    ""
                else
                    $" + {lib.LapackName}"

            $"native: {lib.BlasName}{lapack}{build}{threads}"
        | _ -> managed
