/// A managed, cache-blocked, packed SIMD matrix product for column-major buffers, the fallback when no native BLAS
/// loads. The structure is GotoBLAS's: op(B) is packed in kc x NR column panels, op(A) in MR x kc row panels, and a
/// register-tile micro-kernel accumulates an MR x NR block of C with fused multiply-adds. MR is three vectors
/// (24 doubles with AVX-512, 12 with AVX2); NR = 4, so the tile lives in 12 vector registers. The micro-kernels are
/// inlined into the loop that calls them once per tile: F# does not emit MethodImplOptions.AggressiveOptimization, and
/// a kernel called per tile ran unoptimised (tier 0) until tiered compilation replaced it (see TallGemm.fs).
module internal LowRank.Core.ManagedGemm

#nowarn "9" // native pointers into buffers pinned with `fixed`

open System
open System.Buffers
open System.Numerics
open System.Runtime.CompilerServices
open System.Runtime.Intrinsics
open System.Threading.Tasks
open Microsoft.FSharp.NativeInterop

let private NR = 4
let private KC = 256
let private MC = 192

/// Whether the 512-bit kernel runs; otherwise the Vector<T> kernel (256-bit on AVX2, 128-bit on NEON).
let wide = Vector512.IsHardwareAccelerated

/// Rows of the register tile: three vectors.
let private tileRows (useWide: bool) =
    if useWide then 24 else 3 * Vector<float>.Count

/// Rows of the register tile of the kernel this machine runs.
let MR = tileRows wide

/// Packs rows [i0, i0 + rows) and columns [p0, p0 + kc) of op(A) as MR-row panels, zero-padded to whole panels.
/// For a non-transposed A the loop runs down each column (MR contiguous reads, MR contiguous writes): walking along
/// rows instead strides lda doubles per element and touches a new page each time, which thrashes the TLB.
let private packA
    (MR: int)
    (transA: bool)
    (a: float[])
    (lda: int)
    (i0: int)
    (rows: int)
    (p0: int)
    (kc: int)
    (buffer: float[])
    =
    let panels = (rows + MR - 1) / MR

    for panel in 0 .. panels - 1 do
        let baseIndex = panel * MR * kc
        let first = panel * MR
        let valid = min MR (rows - first)

        for p in 0 .. kc - 1 do
            let target = baseIndex + p * MR

            if transA then
                for r in 0 .. valid - 1 do
                    buffer[target + r] <- a[(p0 + p) + (i0 + first + r) * lda]
            else
                let source = (i0 + first) + (p0 + p) * lda
                Array.blit a source buffer target valid

            for r in valid .. MR - 1 do
                buffer[target + r] <- 0.0

/// Packs rows [p0, p0 + kc) and columns [j0, j0 + cols) of op(B) as NR-column panels, zero-padded.
let private packB (transB: bool) (b: float[]) (ldb: int) (p0: int) (kc: int) (j0: int) (cols: int) (buffer: float[]) =
    let panels = (cols + NR - 1) / NR

    for panel in 0 .. panels - 1 do
        let baseIndex = panel * NR * kc

        for c in 0 .. NR - 1 do
            let j = panel * NR + c

            if j < cols then
                let column = j0 + j

                for p in 0 .. kc - 1 do
                    buffer[baseIndex + p * NR + c] <-
                        if transB then
                            b[column + (p0 + p) * ldb]
                        else
                            b[(p0 + p) + column * ldb]
            else
                for p in 0 .. kc - 1 do
                    buffer[baseIndex + p * NR + c] <- 0.0

/// Adds alpha * tile (MR x NR, column-major in `tile`) to the rows x cols corner of C at `c`.
let inline private addTile
    (MR: int)
    (tile: nativeptr<float>)
    (c: nativeptr<float>)
    (ldc: int)
    rows
    cols
    (alpha: float)
    =
    for col in 0 .. cols - 1 do
        for r in 0 .. rows - 1 do
            let target = NativePtr.add c (r + col * ldc)
            NativePtr.write target (NativePtr.read target + alpha * NativePtr.get tile (r + col * MR))

/// The 24 x 4 AVX-512 micro-kernel: C[0..rows, 0..cols] += alpha * Apanel * Bpanel over kc steps.
let inline private kernel512
    (kc: int)
    (pa: nativeptr<float>)
    (pb: nativeptr<float>)
    (bStep: int)
    (bColumn: int)
    (c: nativeptr<float>)
    (ldc: int)
    (rows: int)
    (cols: int)
    (alpha: float)
    =
    let mutable c00 = Vector512<float>.Zero
    let mutable c10 = Vector512<float>.Zero
    let mutable c20 = Vector512<float>.Zero
    let mutable c01 = Vector512<float>.Zero
    let mutable c11 = Vector512<float>.Zero
    let mutable c21 = Vector512<float>.Zero
    let mutable c02 = Vector512<float>.Zero
    let mutable c12 = Vector512<float>.Zero
    let mutable c22 = Vector512<float>.Zero
    let mutable c03 = Vector512<float>.Zero
    let mutable c13 = Vector512<float>.Zero
    let mutable c23 = Vector512<float>.Zero
    let mutable a = pa
    let mutable b = pb

    for _ in 1..kc do
        let a0 = Vector512.Load a
        let a1 = Vector512.Load(NativePtr.add a 8)
        let a2 = Vector512.Load(NativePtr.add a 16)
        let b0 = Vector512.Create(NativePtr.get b 0)
        c00 <- Vector512.FusedMultiplyAdd(a0, b0, c00)
        c10 <- Vector512.FusedMultiplyAdd(a1, b0, c10)
        c20 <- Vector512.FusedMultiplyAdd(a2, b0, c20)
        let b1 = Vector512.Create(NativePtr.get b bColumn)
        c01 <- Vector512.FusedMultiplyAdd(a0, b1, c01)
        c11 <- Vector512.FusedMultiplyAdd(a1, b1, c11)
        c21 <- Vector512.FusedMultiplyAdd(a2, b1, c21)
        let b2 = Vector512.Create(NativePtr.get b (2 * bColumn))
        c02 <- Vector512.FusedMultiplyAdd(a0, b2, c02)
        c12 <- Vector512.FusedMultiplyAdd(a1, b2, c12)
        c22 <- Vector512.FusedMultiplyAdd(a2, b2, c22)
        let b3 = Vector512.Create(NativePtr.get b (3 * bColumn))
        c03 <- Vector512.FusedMultiplyAdd(a0, b3, c03)
        c13 <- Vector512.FusedMultiplyAdd(a1, b3, c13)
        c23 <- Vector512.FusedMultiplyAdd(a2, b3, c23)
        a <- NativePtr.add a 24
        b <- NativePtr.add b bStep

    // Static Vector512.Store, never v.Store: an instance call on an accumulator takes its address, and the JIT then
    // spills that accumulator to the stack after every FMA of the loop above (seen with DOTNET_JitDisasm).
    if rows = 24 && cols = 4 then
        // A full tile: C += alpha * acc, column by column in vector registers.
        let scale = Vector512.Create alpha

        let add (v: Vector512<float>) (offset: int) =
            let target = NativePtr.add c offset
            Vector512.Store(Vector512.FusedMultiplyAdd(scale, v, Vector512.Load target), target)

        add c00 0
        add c10 8
        add c20 16
        add c01 ldc
        add c11 (ldc + 8)
        add c21 (ldc + 16)
        add c02 (2 * ldc)
        add c12 (2 * ldc + 8)
        add c22 (2 * ldc + 16)
        add c03 (3 * ldc)
        add c13 (3 * ldc + 8)
        add c23 (3 * ldc + 16)
    else

        let tile = NativePtr.stackalloc<float>(24 * 4)

        let store (v: Vector512<float>) offset =
            Vector512.Store(v, NativePtr.add tile offset)

        store c00 0
        store c10 8
        store c20 16
        store c01 24
        store c11 32
        store c21 40
        store c02 48
        store c12 56
        store c22 64
        store c03 72
        store c13 80
        store c23 88
        addTile 24 tile c ldc rows cols alpha

/// The portable micro-kernel over Vector<T>, MR = 3 Vector<float>.Count rows.
let inline private kernelPortable
    (kc: int)
    (pa: nativeptr<float>)
    (pb: nativeptr<float>)
    (bStep: int)
    (bColumn: int)
    (c: nativeptr<float>)
    (ldc: int)
    (rows: int)
    (cols: int)
    (alpha: float)
    =
    let w = Vector<float>.Count
    let acc = Array.zeroCreate<Vector<float>> 12
    let mutable a = pa
    let mutable b = pb

    for _ in 1..kc do
        let a0 = Vector.Load a
        let a1 = Vector.Load(NativePtr.add a w)
        let a2 = Vector.Load(NativePtr.add a (2 * w))

        for col in 0..3 do
            let bv = Vector<float>(NativePtr.get b (col * bColumn))
            acc[3 * col] <- Vector.FusedMultiplyAdd(a0, bv, acc[3 * col])
            acc[3 * col + 1] <- Vector.FusedMultiplyAdd(a1, bv, acc[3 * col + 1])
            acc[3 * col + 2] <- Vector.FusedMultiplyAdd(a2, bv, acc[3 * col + 2])

        a <- NativePtr.add a (3 * w)
        b <- NativePtr.add b bStep

    let MR = 3 * w
    let tile = NativePtr.stackalloc<float>(MR * 4)

    for col in 0..3 do
        for v in 0..2 do
            acc[3 * col + v].Store(NativePtr.add tile (col * MR + v * w))

    addTile MR tile c ldc rows cols alpha

/// C[:, j0 .. j0 + cols) += alpha op(A) op(B)[:, j0 .. j0 + cols), with packing buffers rented for the call.
/// A non-transposed B is read in place: its NR columns are contiguous runs that stay in L1 across the A panels, so
/// packing would only copy them; a transposed B, or a ragged last panel, is packed.
let private columnsSlice useWide transA transB m k alpha (a: float[]) lda (b: float[]) ldb (c: float[]) ldc j0 cols =
    let MR = tileRows useWide
    let pool = ArrayPool<float>.Shared
    let packedA = pool.Rent(((MC + MR - 1) / MR) * MR * KC)
    let packedB = pool.Rent(((cols + NR - 1) / NR) * NR * KC)
    let ragged = pool.Rent(NR * KC)

    try
        use pc = fixed c
        use pa = fixed packedA
        use pb = fixed packedB
        use praw = fixed b
        use pragged = fixed ragged
        let full = cols / NR * NR

        for p0 in 0..KC .. k - 1 do
            let kc = min KC (k - p0)

            if transB then
                packB true b ldb p0 kc j0 cols packedB
            elif full < cols then
                packB false b ldb p0 kc (j0 + full) (cols - full) ragged

            for i0 in 0..MC .. m - 1 do
                let mc = min MC (m - i0)
                packA MR transA a lda i0 mc p0 kc packedA

                for jp in 0..NR .. cols - 1 do
                    let nc = min NR (cols - jp)

                    let bPanel, bStep, bColumn =
                        if transB then NativePtr.add pb ((jp / NR) * NR * kc), NR, 1
                        elif nc < NR then pragged, NR, 1
                        else NativePtr.add praw (p0 + (j0 + jp) * ldb), 1, ldb

                    for ip in 0..MR .. mc - 1 do
                        let mr = min MR (mc - ip)
                        let aPanel = NativePtr.add pa ((ip / MR) * MR * kc)
                        let cTile = NativePtr.add pc ((i0 + ip) + (j0 + jp) * ldc)

                        if useWide then
                            kernel512 kc aPanel bPanel bStep bColumn cTile ldc mr nc alpha
                        else
                            kernelPortable kc aPanel bPanel bStep bColumn cTile ldc mr nc alpha
    finally
        pool.Return packedA
        pool.Return packedB
        pool.Return ragged

/// C (m x n) <- alpha op(A) op(B) + beta C for column-major buffers with leading dimensions lda, ldb, ldc, where op(A)
/// is m x k and op(B) is k x n. beta = 0 overwrites C (NaN in C does not propagate), as BLAS specifies.
/// useWide picks the AVX-512 micro-kernel (only where Vector512 is accelerated) or the portable one, so that tests
/// can run both on any machine.
let gemmWith
    (useWide: bool)
    (transA: bool)
    (transB: bool)
    (m: int)
    (n: int)
    (k: int)
    (alpha: float)
    (a: float[])
    (lda: int)
    (b: float[])
    (ldb: int)
    (beta: float)
    (c: float[])
    (ldc: int)
    =
    if beta <> 1.0 then
        for j in 0 .. n - 1 do
            for i in 0 .. m - 1 do
                c[i + j * ldc] <- if beta = 0.0 then 0.0 else beta * c[i + j * ldc]

    if m > 0 && n > 0 && k > 0 && alpha <> 0.0 then
        // Split C's columns across cores when the product is large enough to repay the extra packing of A.
        let work = float m * float n * float k

        let slices =
            if work < 2e6 then
                1
            else
                min Environment.ProcessorCount ((n + NR - 1) / NR)

        if slices <= 1 then
            columnsSlice useWide transA transB m k alpha a lda b ldb c ldc 0 n
        else
            let perSlice = ((n + slices - 1) / slices + NR - 1) / NR * NR

            Parallel.For(
                0,
                slices,
                fun s ->
                    let j0 = s * perSlice
                    let cols = min perSlice (n - j0)

                    if cols > 0 then
                        columnsSlice useWide transA transB m k alpha a lda b ldb c ldc j0 cols
            )
            |> ignore

/// The product with the micro-kernel this machine runs best: gemmWith wide.
let gemm transA transB m n k alpha a lda b ldb beta c ldc =
    gemmWith wide transA transB m n k alpha a lda b ldb beta c ldc
