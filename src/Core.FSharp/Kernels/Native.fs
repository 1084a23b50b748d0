/// P/Invoke bindings to a system BLAS/LAPACK, loaded at run time (never a link-time dependency). Only cblas_dgemm and
/// Fortran LAPACK symbols are used, because Debian's OpenBLAS and reference LAPACK export no LAPACKE. Fortran passes
/// every argument by reference, CHARACTER arguments as one byte plus a hidden length appended by value (gfortran's
/// size_t convention).
module internal LowRank.Core.Native

#nowarn "9" // native pointers: the buffers are pinned with `fixed` for the duration of each call

open System
open System.Reflection
open System.Runtime.InteropServices

[<Literal>]
let private Blas = "lowrank-blas"

[<Literal>]
let private Lapack = "lowrank-lapack"

/// What was loaded: the library paths (or names) and their handles.
type Library = {
    BlasName: string
    LapackName: string
    Blas: nativeint
    Lapack: nativeint
}

let private required = [
    "cblas_dgemm", true
    "dgesdd_", false
    "dgeqrf_", false
    "dorgqr_", false
    "dormqr_", false
    "dsyevd_", false
    "dgelsd_", false
]

/// Candidate (BLAS, LAPACK) pairs in order of preference for this OS.
let private candidates () =
    if OperatingSystem.IsWindows() then
        [ "libopenblas.dll", "libopenblas.dll"; "openblas.dll", "openblas.dll" ]
    elif OperatingSystem.IsMacOS() then
        let accelerate = "/System/Library/Frameworks/Accelerate.framework/Accelerate"

        [
            for prefix in [ "/opt/homebrew/opt/openblas/lib/"; "/usr/local/opt/openblas/lib/"; "" ] do
                yield prefix + "libopenblas.dylib", prefix + "libopenblas.dylib"
            yield accelerate, accelerate
        ]
    else
        [
            "libopenblas.so.0", "libopenblas.so.0"
            "libopenblas.so", "libopenblas.so"
            "libblas.so.3", "liblapack.so.3"
        ]

let private tryLoad (name: string) =
    match NativeLibrary.TryLoad name with
    | true, handle -> Some handle
    | _ -> None

/// Loads the first candidate pair that exports every required symbol; None when none does.
let private load () : Library option =
    candidates ()
    |> List.tryPick (fun (blasName, lapackName) ->
        match tryLoad blasName, tryLoad lapackName with
        | Some blas, Some lapack ->
            let exports (symbol, inBlas) =
                fst (NativeLibrary.TryGetExport((if inBlas then blas else lapack), symbol))

            if List.forall exports required then
                Some {
                    BlasName = blasName
                    LapackName = lapackName
                    Blas = blas
                    Lapack = lapack
                }
            else
                None
        | _ -> None)

[<DllImport("libc.so.6", EntryPoint = "setenv", CallingConvention = CallingConvention.Cdecl)>]
extern int private setenv(string name, string value, int overwrite)

/// On x86-64 Linux with AVX-512, OpenBLAS (0.3.21, Debian 12's) picks its AVX-512 kernels, and with them the same LAPACK
/// call on the same numbers can differ in the last bits between two calls in one process (seen on an Intel Xeon with
/// AVX-512: a training run resumed from a checkpoint no longer ends bit for bit where the uninterrupted run ends, though
/// dgemm alone is reproducible). LowRank promises that reproducibility, so unless the user chose a kernel set
/// (OPENBLAS_CORETYPE is set), the library asks OpenBLAS for its Haswell (AVX2) kernels, whose results do not vary. It
/// must happen before OpenBLAS is loaded: OpenBLAS reads the variable once, in its initialiser, through the C library's
/// environment (which Environment.SetEnvironmentVariable does not change on Unix).
let private pinReproducibleKernels () =
    if
        OperatingSystem.IsLinux()
        && Runtime.Intrinsics.X86.Avx512F.IsSupported
        && String.IsNullOrEmpty(Environment.GetEnvironmentVariable "OPENBLAS_CORETYPE")
    then
        try
            setenv ("OPENBLAS_CORETYPE", "Haswell", 0) |> ignore
        with
        | :? DllNotFoundException
        | :? EntryPointNotFoundException -> ()

/// The loaded library, resolved once; the DllImport resolver maps the two logical names onto its handles.
let library: Lazy<Library option> =
    lazy
        (let found =
            // LOWRANK_NATIVE_DISABLE=1 simulates a machine without BLAS, so the fallback can be tested anywhere.
            if Environment.GetEnvironmentVariable "LOWRANK_NATIVE_DISABLE" = "1" then
                None
            else
                pinReproducibleKernels ()
                load ()

         match found with
         | Some lib ->
             NativeLibrary.SetDllImportResolver(
                 Assembly.GetExecutingAssembly(),
                 DllImportResolver(fun name _ _ ->
                     match name with
                     | Blas -> lib.Blas
                     | Lapack -> lib.Lapack
                     | _ -> IntPtr.Zero)
             )
         | None -> ()

         found)

// CBLAS enums.
let ColumnMajor = 102
let NoTrans = 111
let Trans = 112

[<DllImport(Blas, EntryPoint = "cblas_dgemm", CallingConvention = CallingConvention.Cdecl)>]
extern void dgemm(
    int order,
    int transA,
    int transB,
    int m,
    int n,
    int k,
    float alpha,
    float* a,
    int lda,
    float* b,
    int ldb,
    float beta,
    float* c,
    int ldc
)

[<DllImport(Lapack, EntryPoint = "dgesdd_", CallingConvention = CallingConvention.Cdecl)>]
extern void dgesdd(
    byte& jobz,
    int& m,
    int& n,
    float* a,
    int& lda,
    float* s,
    float* u,
    int& ldu,
    float* vt,
    int& ldvt,
    float* work,
    int& lwork,
    int* iwork,
    int& info,
    unativeint jobzLength
)

[<DllImport(Lapack, EntryPoint = "dgeqrf_", CallingConvention = CallingConvention.Cdecl)>]
extern void dgeqrf(int& m, int& n, float* a, int& lda, float* tau, float* work, int& lwork, int& info)

[<DllImport(Lapack, EntryPoint = "dorgqr_", CallingConvention = CallingConvention.Cdecl)>]
extern void dorgqr(int& m, int& n, int& k, float* a, int& lda, float* tau, float* work, int& lwork, int& info)

[<DllImport(Lapack, EntryPoint = "dormqr_", CallingConvention = CallingConvention.Cdecl)>]
extern void dormqr(
    byte& side,
    byte& trans,
    int& m,
    int& n,
    int& k,
    float* a,
    int& lda,
    float* tau,
    float* c,
    int& ldc,
    float* work,
    int& lwork,
    int& info,
    unativeint sideLength,
    unativeint transLength
)

[<DllImport(Lapack, EntryPoint = "dsyevd_", CallingConvention = CallingConvention.Cdecl)>]
extern void dsyevd(
    byte& jobz,
    byte& uplo,
    int& n,
    float* a,
    int& lda,
    float* w,
    float* work,
    int& lwork,
    int* iwork,
    int& liwork,
    int& info,
    unativeint jobzLength,
    unativeint uploLength
)

[<DllImport(Lapack, EntryPoint = "dgelsd_", CallingConvention = CallingConvention.Cdecl)>]
extern void dgelsd(
    int& m,
    int& n,
    int& nrhs,
    float* a,
    int& lda,
    float* b,
    int& ldb,
    float* s,
    float& rcond,
    int& rank,
    float* work,
    int& lwork,
    int* iwork,
    int& info
)

/// OpenBLAS's thread control, absent from other BLAS libraries.
let private export (name: string) =
    match library.Value with
    | Some lib ->
        match NativeLibrary.TryGetExport(lib.Blas, name) with
        | true, address -> Some address
        | _ -> None
    | None -> None

[<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
type private SetThreads = delegate of int -> unit

[<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
type private GetThreads = delegate of unit -> int

[<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
type private GetConfig = delegate of unit -> nativeint

/// Sets OpenBLAS's thread count; false when the library has no such control.
let setThreads (count: int) =
    match export "openblas_set_num_threads" with
    | Some address ->
        Marshal.GetDelegateForFunctionPointer<SetThreads>(address).Invoke count
        true
    | None -> false

/// OpenBLAS's thread count, if the library reports one.
let threads () =
    export "openblas_get_num_threads"
    |> Option.map (fun address -> Marshal.GetDelegateForFunctionPointer<GetThreads>(address).Invoke())

/// OpenBLAS's build description (version, target, threading), if the library reports one.
let config () =
    export "openblas_get_config"
    |> Option.map (fun address ->
        let get = Marshal.GetDelegateForFunctionPointer<GetConfig>(address)
        Marshal.PtrToStringAnsi(get.Invoke()))
