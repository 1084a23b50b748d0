/// The two products every power iteration, SCW and streamed pass spends its time in, for a tall column-major A (m x k,
/// m in the thousands or more) and a narrow V or Q (r <= 64 columns): A V and A^T Q. OpenBLAS's dgemm packs A into
/// buffers before multiplying, which for r = 30 adds a second stream of traffic over A; with the Haswell kernels LowRank
/// pins for reproducibility (Native.fs) each product of an 80,000 x 768 A took 0.1 s on the reference machine. These
/// kernels read A where it lies, in AVX-512 registers (0.06-0.07 s for A V, 0.05-0.07 s for A^T Q, medians):
///   - A V: a strip of 16 rows of A (two vectors), copied with three more into a contiguous buffer, times 12 columns of
///     V in 24 accumulators, over p = 0 .. k - 1; the strip stays in cache for every group of 12 columns;
///   - A^T Q: for each row i of a 512-row strip, Q's row (32 columns, packed: four vectors) times A[i, p] for six
///     columns p at once, in 24 accumulators that are rows of a k x 32 partial; no horizontal sums;
///   - A^T (A V), the power iterations' two products in one pass: each block of 64 rows is copied into a buffer, its
///     A V formed there by the first tile and its A^T (A V) by the second while the block is in cache (0.08-0.09 s
///     against 0.10-0.11 s for the two products apart: the tiles run near the cores' FMA throughput).
/// Every sum runs in a fixed order whatever the buffers' alignment or the scheduling (the cores' partials of A^T Q are
/// added in core order), so results are reproducible bit for bit on a machine. The tiles are inlined into the loop over
/// strips: F# does not emit MethodImplOptions.AggressiveOptimization, and a tile called once per strip ran its first
/// 0.1-0.2 s unoptimised (tier 0) before tiered compilation replaced it; a loop inside one call is replaced on the
/// stack (OSR) within its first thousand iterations.
module internal LowRank.Core.TallGemm

#nowarn "9" // native pointers into buffers pinned with `fixed`

open System
open System.Runtime.CompilerServices
open System.Runtime.Intrinsics
open System.Runtime.Intrinsics.X86
open System.Threading.Tasks
open Microsoft.FSharp.NativeInterop

/// Whether this machine runs the kernels (AVX-512 Foundation).
let supported = Avx512F.IsSupported

/// Rows of a strip (two 8-double vectors) and columns of V per register tile (24 accumulators).
let internal MR = 16
let internal NR = 12

/// Whether A V or A^T Q (A m x k, V k x r, Q m x r) should go to these kernels: tall enough that A's traffic dominates,
/// narrow enough that the register tiles cover V or Q in a few groups (narrower products are matrix-vector products,
/// for BLAS).
let fits (m: int) (k: int) (r: int) =
    supported && m >= 4096 && k >= 16 && r >= 4 && r <= 64

/// V (k x r, op(V) of the stored matrix) packed in groups of NR columns, each group k x NR row-major, zero-padded.
let private pack (transV: bool) (v: float[]) (ldv: int) (k: int) (r: int) =
    let groups = (r + NR - 1) / NR
    let packed = Array.zeroCreate<float>(groups * k * NR)

    for g in 0 .. groups - 1 do
        for c in 0 .. min NR (r - g * NR) - 1 do
            let j = g * NR + c

            for p in 0 .. k - 1 do
                packed[(g * k + p) * NR + c] <- if transV then v[j + p * ldv] else v[p + j * ldv]

    packed

/// C[i .. i + 15, g NR .. g NR + width - 1] = A[i .. i + 15, :] V_g (or, with accumulate, += it): 24 accumulators over
/// p = 0 .. k - 1.
let inline internal tile
    (accumulate: bool)
    (pa: nativeptr<float>)
    (lda: int)
    (k: int)
    (pv: nativeptr<float>)
    (pc: nativeptr<float>)
    ldc
    width
    =
    let mutable c00 = Vector512<float>.Zero
    let mutable c01 = Vector512<float>.Zero
    let mutable c02 = Vector512<float>.Zero
    let mutable c03 = Vector512<float>.Zero
    let mutable c04 = Vector512<float>.Zero
    let mutable c05 = Vector512<float>.Zero
    let mutable c06 = Vector512<float>.Zero
    let mutable c07 = Vector512<float>.Zero
    let mutable c08 = Vector512<float>.Zero
    let mutable c09 = Vector512<float>.Zero
    let mutable c0a = Vector512<float>.Zero
    let mutable c0b = Vector512<float>.Zero
    let mutable c10 = Vector512<float>.Zero
    let mutable c11 = Vector512<float>.Zero
    let mutable c12 = Vector512<float>.Zero
    let mutable c13 = Vector512<float>.Zero
    let mutable c14 = Vector512<float>.Zero
    let mutable c15 = Vector512<float>.Zero
    let mutable c16 = Vector512<float>.Zero
    let mutable c17 = Vector512<float>.Zero
    let mutable c18 = Vector512<float>.Zero
    let mutable c19 = Vector512<float>.Zero
    let mutable c1a = Vector512<float>.Zero
    let mutable c1b = Vector512<float>.Zero
    let mutable a = pa
    let mutable b = pv

    for _ in 1..k do
        let a0 = Avx512F.LoadVector512 a
        let a1 = Avx512F.LoadVector512(NativePtr.add a 8)
        let s0 = Vector512.Create(NativePtr.get b 0)
        c00 <- Avx512F.FusedMultiplyAdd(a0, s0, c00)
        c10 <- Avx512F.FusedMultiplyAdd(a1, s0, c10)
        let s1 = Vector512.Create(NativePtr.get b 1)
        c01 <- Avx512F.FusedMultiplyAdd(a0, s1, c01)
        c11 <- Avx512F.FusedMultiplyAdd(a1, s1, c11)
        let s2 = Vector512.Create(NativePtr.get b 2)
        c02 <- Avx512F.FusedMultiplyAdd(a0, s2, c02)
        c12 <- Avx512F.FusedMultiplyAdd(a1, s2, c12)
        let s3 = Vector512.Create(NativePtr.get b 3)
        c03 <- Avx512F.FusedMultiplyAdd(a0, s3, c03)
        c13 <- Avx512F.FusedMultiplyAdd(a1, s3, c13)
        let s4 = Vector512.Create(NativePtr.get b 4)
        c04 <- Avx512F.FusedMultiplyAdd(a0, s4, c04)
        c14 <- Avx512F.FusedMultiplyAdd(a1, s4, c14)
        let s5 = Vector512.Create(NativePtr.get b 5)
        c05 <- Avx512F.FusedMultiplyAdd(a0, s5, c05)
        c15 <- Avx512F.FusedMultiplyAdd(a1, s5, c15)
        let s6 = Vector512.Create(NativePtr.get b 6)
        c06 <- Avx512F.FusedMultiplyAdd(a0, s6, c06)
        c16 <- Avx512F.FusedMultiplyAdd(a1, s6, c16)
        let s7 = Vector512.Create(NativePtr.get b 7)
        c07 <- Avx512F.FusedMultiplyAdd(a0, s7, c07)
        c17 <- Avx512F.FusedMultiplyAdd(a1, s7, c17)
        let s8 = Vector512.Create(NativePtr.get b 8)
        c08 <- Avx512F.FusedMultiplyAdd(a0, s8, c08)
        c18 <- Avx512F.FusedMultiplyAdd(a1, s8, c18)
        let s9 = Vector512.Create(NativePtr.get b 9)
        c09 <- Avx512F.FusedMultiplyAdd(a0, s9, c09)
        c19 <- Avx512F.FusedMultiplyAdd(a1, s9, c19)
        let sa = Vector512.Create(NativePtr.get b 10)
        c0a <- Avx512F.FusedMultiplyAdd(a0, sa, c0a)
        c1a <- Avx512F.FusedMultiplyAdd(a1, sa, c1a)
        let sb = Vector512.Create(NativePtr.get b 11)
        c0b <- Avx512F.FusedMultiplyAdd(a0, sb, c0b)
        c1b <- Avx512F.FusedMultiplyAdd(a1, sb, c1b)
        a <- NativePtr.add a lda
        b <- NativePtr.add b NR

    let inline store (j: int) (x0: Vector512<float>) (x1: Vector512<float>) =
        if j < width then
            let target = NativePtr.add pc (j * ldc)

            if accumulate then
                Avx512F.Store(target, Avx512F.Add(Avx512F.LoadVector512 target, x0))
                Avx512F.Store(NativePtr.add target 8, Avx512F.Add(Avx512F.LoadVector512(NativePtr.add target 8), x1))
            else
                Avx512F.Store(target, x0)
                Avx512F.Store(NativePtr.add target 8, x1)

    store 0 c00 c10
    store 1 c01 c11
    store 2 c02 c12
    store 3 c03 c13
    store 4 c04 c14
    store 5 c05 c15
    store 6 c06 c16
    store 7 c07 c17
    store 8 c08 c18
    store 9 c09 c19
    store 10 c0a c1a
    store 11 c0b c1b

/// Strips copied at a time: four strips of 16 rows, so that each column of A is read 512 contiguous bytes at a time.
let internal STRIPS = 4

/// Rows [first, last) of C = A op(V): whole strips by the tile, the rows after the last whole strip one at a time, each
/// sum in the same order p = 0 .. k - 1. Up to four strips are first copied into a contiguous buffer (k x 16 each),
/// reading each column of A 64 rows at a time: read in place, a strip's k column pieces lie lda apart, and when lda is a
/// multiple of 4096 (a streamed block of 4096 rows) they fall into the same few cache sets and evict one another between
/// the groups of V (a 4096 x 768 block took 10 ms, against 3 ms per 4096 rows of an 80,000-row matrix).
[<MethodImpl(MethodImplOptions.NoInlining)>]
let private rows (a: float[]) lda k (packed: float[]) r (c: float[]) ldc first last =
    let groups = (r + NR - 1) / NR
    let strip = Array.zeroCreate<float>(STRIPS * k * MR)
    use pa = fixed a
    use pv = fixed packed
    use pc = fixed c
    use ps = fixed strip
    let mutable i = first

    while i + MR <= last do
        let strips = min STRIPS ((last - i) / MR)

        for p in 0 .. k - 1 do
            let source = NativePtr.add pa (i + p * lda)

            for s in 0 .. strips - 1 do
                let target = NativePtr.add ps ((s * k + p) * MR)
                Avx512F.Store(target, Avx512F.LoadVector512(NativePtr.add source (s * MR)))
                Avx512F.Store(NativePtr.add target 8, Avx512F.LoadVector512(NativePtr.add source (s * MR + 8)))

        for s in 0 .. strips - 1 do
            for g in 0 .. groups - 1 do
                tile
                    false
                    (NativePtr.add ps (s * k * MR))
                    MR
                    k
                    (NativePtr.add pv (g * k * NR))
                    (NativePtr.add pc (i + s * MR + g * NR * ldc))
                    ldc
                    (min NR (r - g * NR))

        i <- i + strips * MR

    for i in i .. last - 1 do
        for j in 0 .. r - 1 do
            let g, col = j / NR, j % NR
            let mutable sum = 0.0

            for p in 0 .. k - 1 do
                sum <- Math.FusedMultiplyAdd(a[i + p * lda], packed[(g * k + p) * NR + col], sum)

            c[i + j * ldc] <- sum

/// body part first last for part = 0 .. parts - 1 on the thread pool, the m rows split into ranges of whole units of
/// `unit` rows (the last range ends at m).
let internal inParts (m: int) (unit: int) (parts: int) (body: int -> int -> int -> unit) =
    let units = (m + unit - 1) / unit

    Parallel.For(
        0,
        parts,
        fun part ->
            let first = int (int64 units * int64 part / int64 parts) * unit
            let last = min m (int (int64 units * int64 (part + 1) / int64 parts) * unit)
            body part first last
    )
    |> ignore

/// C (m x r, column-major, leading dimension m, overwritten) = A op(V): A m x k column-major with leading dimension
/// lda; op(V) = V (k x r, leading dimension ldv) or, with transV, the transpose of the stored r x k V. Rows are split
/// among the cores in whole strips.
let multiply (a: float[]) (lda: int) (m: int) (k: int) (transV: bool) (v: float[]) (ldv: int) (r: int) (c: float[]) =
    let packed = pack transV v ldv k r

    inParts m MR (max 1 (min Environment.ProcessorCount (m / (64 * MR)))) (fun _ first last ->
        rows a lda k packed r c m first last)

/// Rows of a strip of A^T Q: the strip of Q, packed row by row, stays in cache while A's columns stream past.
let internal STRIP = 512

/// Columns of Q per packed group (four vectors) and columns of A per register tile (6 x 4 = 24 accumulators).
let internal QW = 32
let internal PW = 6

/// partial[p0 + t, 0 .. 31] += sum_i A[i, p0 + t] Q_strip[i, 0 .. 31] for t &lt; count (&lt;= 6): for each row i, Q's
/// packed row (4 vectors) times each of the count columns' entries, broadcast. No horizontal sums: the accumulators are
/// rows of the k x 32 partial, added to it in a fixed order.
let inline internal sixTile
    (pa: nativeptr<float>)
    (lda: int)
    count
    length
    (pq: nativeptr<float>)
    (pc: nativeptr<float>)
    =
    let mutable c00 = Vector512<float>.Zero
    let mutable c01 = Vector512<float>.Zero
    let mutable c02 = Vector512<float>.Zero
    let mutable c03 = Vector512<float>.Zero
    let mutable c10 = Vector512<float>.Zero
    let mutable c11 = Vector512<float>.Zero
    let mutable c12 = Vector512<float>.Zero
    let mutable c13 = Vector512<float>.Zero
    let mutable c20 = Vector512<float>.Zero
    let mutable c21 = Vector512<float>.Zero
    let mutable c22 = Vector512<float>.Zero
    let mutable c23 = Vector512<float>.Zero
    let mutable c30 = Vector512<float>.Zero
    let mutable c31 = Vector512<float>.Zero
    let mutable c32 = Vector512<float>.Zero
    let mutable c33 = Vector512<float>.Zero
    let mutable c40 = Vector512<float>.Zero
    let mutable c41 = Vector512<float>.Zero
    let mutable c42 = Vector512<float>.Zero
    let mutable c43 = Vector512<float>.Zero
    let mutable c50 = Vector512<float>.Zero
    let mutable c51 = Vector512<float>.Zero
    let mutable c52 = Vector512<float>.Zero
    let mutable c53 = Vector512<float>.Zero
    let a0 = NativePtr.add pa ((min 0 (count - 1)) * lda)
    let a1 = NativePtr.add pa ((min 1 (count - 1)) * lda)
    let a2 = NativePtr.add pa ((min 2 (count - 1)) * lda)
    let a3 = NativePtr.add pa ((min 3 (count - 1)) * lda)
    let a4 = NativePtr.add pa ((min 4 (count - 1)) * lda)
    let a5 = NativePtr.add pa ((min 5 (count - 1)) * lda)
    let mutable q = pq

    for i in 0 .. length - 1 do
        let q0 = Avx512F.LoadVector512 q
        let q1 = Avx512F.LoadVector512(NativePtr.add q 8)
        let q2 = Avx512F.LoadVector512(NativePtr.add q 16)
        let q3 = Avx512F.LoadVector512(NativePtr.add q 24)
        let s0 = Vector512.Create(NativePtr.get a0 i)
        c00 <- Avx512F.FusedMultiplyAdd(s0, q0, c00)
        c01 <- Avx512F.FusedMultiplyAdd(s0, q1, c01)
        c02 <- Avx512F.FusedMultiplyAdd(s0, q2, c02)
        c03 <- Avx512F.FusedMultiplyAdd(s0, q3, c03)
        let s1 = Vector512.Create(NativePtr.get a1 i)
        c10 <- Avx512F.FusedMultiplyAdd(s1, q0, c10)
        c11 <- Avx512F.FusedMultiplyAdd(s1, q1, c11)
        c12 <- Avx512F.FusedMultiplyAdd(s1, q2, c12)
        c13 <- Avx512F.FusedMultiplyAdd(s1, q3, c13)
        let s2 = Vector512.Create(NativePtr.get a2 i)
        c20 <- Avx512F.FusedMultiplyAdd(s2, q0, c20)
        c21 <- Avx512F.FusedMultiplyAdd(s2, q1, c21)
        c22 <- Avx512F.FusedMultiplyAdd(s2, q2, c22)
        c23 <- Avx512F.FusedMultiplyAdd(s2, q3, c23)
        let s3 = Vector512.Create(NativePtr.get a3 i)
        c30 <- Avx512F.FusedMultiplyAdd(s3, q0, c30)
        c31 <- Avx512F.FusedMultiplyAdd(s3, q1, c31)
        c32 <- Avx512F.FusedMultiplyAdd(s3, q2, c32)
        c33 <- Avx512F.FusedMultiplyAdd(s3, q3, c33)
        let s4 = Vector512.Create(NativePtr.get a4 i)
        c40 <- Avx512F.FusedMultiplyAdd(s4, q0, c40)
        c41 <- Avx512F.FusedMultiplyAdd(s4, q1, c41)
        c42 <- Avx512F.FusedMultiplyAdd(s4, q2, c42)
        c43 <- Avx512F.FusedMultiplyAdd(s4, q3, c43)
        let s5 = Vector512.Create(NativePtr.get a5 i)
        c50 <- Avx512F.FusedMultiplyAdd(s5, q0, c50)
        c51 <- Avx512F.FusedMultiplyAdd(s5, q1, c51)
        c52 <- Avx512F.FusedMultiplyAdd(s5, q2, c52)
        c53 <- Avx512F.FusedMultiplyAdd(s5, q3, c53)
        q <- NativePtr.add q QW

    let inline add
        (t: int)
        (x0: Vector512<float>)
        (x1: Vector512<float>)
        (x2: Vector512<float>)
        (x3: Vector512<float>)
        =
        if t < count then
            let target = NativePtr.add pc (t * QW)
            Avx512F.Store(target, Avx512F.Add(Avx512F.LoadVector512 target, x0))
            Avx512F.Store(NativePtr.add target 8, Avx512F.Add(Avx512F.LoadVector512(NativePtr.add target 8), x1))
            Avx512F.Store(NativePtr.add target 16, Avx512F.Add(Avx512F.LoadVector512(NativePtr.add target 16), x2))
            Avx512F.Store(NativePtr.add target 24, Avx512F.Add(Avx512F.LoadVector512(NativePtr.add target 24), x3))

    add 0 c00 c01 c02 c03
    add 1 c10 c11 c12 c13
    add 2 c20 c21 c22 c23
    add 3 c30 c31 c32 c33
    add 4 c40 c41 c42 c43
    add 5 c50 c51 c52 c53

/// Rows [first, last) of A^T Q added into `partial` (groups x k x 32, row-major per group: Q's columns g 32 .. g 32 + 31
/// for A's column p at (g k + p) 32): strips of STRIP rows, each strip of Q packed row by row and zero-padded to whole
/// groups once; A's columns six at a time.
[<MethodImpl(MethodImplOptions.NoInlining)>]
let private transposedRows (a: float[]) lda k (q: float[]) ldq r (partial: float[]) first last =
    let groups = (r + QW - 1) / QW
    let strip = Array.zeroCreate<float>(STRIP * QW)
    use pa = fixed a
    use ps = fixed strip
    use pc = fixed partial
    let mutable i0 = first

    while i0 < last do
        let rows = min STRIP (last - i0)

        for g in 0 .. groups - 1 do
            let width = min QW (r - g * QW)

            // Down each column of Q (sequential reads), across the packed rows.
            for j in 0 .. width - 1 do
                let column = i0 + (g * QW + j) * ldq

                for i in 0 .. rows - 1 do
                    strip[i * QW + j] <- q[column + i]

            for p in 0..PW .. k - 1 do
                sixTile
                    (NativePtr.add pa (i0 + p * lda))
                    lda
                    (min PW (k - p))
                    rows
                    ps
                    (NativePtr.add pc ((g * k + p) * QW))

        i0 <- i0 + rows

/// C (k x r, column-major, overwritten) = the sum of `body partial first last` over the cores' parts: the m rows split
/// in whole units of `unit` rows, each part summing into its own partial (laid out as transposedRows'), the partials
/// added in part order, so the result does not depend on scheduling.
let private summedOverParts m k r unit (body: float[] -> int -> int -> unit) (c: float[]) =
    let groups = (r + QW - 1) / QW
    let parts = max 1 (min Environment.ProcessorCount (m / STRIP))
    let partials = Array.init parts (fun _ -> Array.zeroCreate<float>(groups * k * QW))
    inParts m unit parts (fun part first last -> body partials[part] first last)

    for p in 0 .. k - 1 do
        for j in 0 .. r - 1 do
            let e = ((j / QW) * k + p) * QW + j % QW
            let mutable sum = 0.0

            for partial in partials do
                sum <- sum + partial[e]

            c[p + j * k] <- sum

/// C (k x r, column-major, leading dimension k, overwritten) = A^T Q for A m x k (leading dimension lda) and Q m x r
/// (leading dimension ldq). The rows are split among the cores; each part sums into its own partial, and the partials
/// are added in part order, so the result does not depend on scheduling.
let transposedMultiply (a: float[]) (lda: int) (m: int) (k: int) (q: float[]) (ldq: int) (r: int) (c: float[]) =
    summedOverParts m k r 1 (fun partial first last -> transposedRows a lda k q ldq r partial first last) c

/// Rows of A per block of the fused A^T (A V): four strips, copied into one contiguous k x 64 buffer.
let internal BLOCK = STRIPS * MR

/// Rows [first, last) of A^T (A op(V)) added into `partial` (laid out as transposedRows'): each block of 64 rows of A is
/// copied once into a buffer (rows past `last` zero), Y = block op(V) (64 x r) is formed there by `tile`, packed by
/// rows, and block^T Y added by `sixTile`, so A is read from memory once for both products.
[<MethodImpl(MethodImplOptions.NoInlining)>]
let private normalRows (a: float[]) lda k (packed: float[]) r (partial: float[]) first last =
    let groups = (r + NR - 1) / NR
    let qGroups = (r + QW - 1) / QW
    let block = Array.zeroCreate<float>(k * BLOCK)
    let y = Array.zeroCreate<float>(BLOCK * groups * NR)
    let yRows = Array.zeroCreate<float>(BLOCK * QW)
    use pa = fixed a
    use pv = fixed packed
    use pb = fixed block
    use py = fixed y
    use pr = fixed yRows
    use pc = fixed partial
    let mutable i = first

    while i < last do
        let count = min BLOCK (last - i)

        if count = BLOCK then
            for p in 0 .. k - 1 do
                let source = NativePtr.add pa (i + p * lda)
                let target = NativePtr.add pb (p * BLOCK)

                for v in 0..8 .. BLOCK - 1 do
                    Avx512F.Store(NativePtr.add target v, Avx512F.LoadVector512(NativePtr.add source v))
        else
            for p in 0 .. k - 1 do
                for t in 0 .. BLOCK - 1 do
                    block[p * BLOCK + t] <- if t < count then a[i + t + p * lda] else 0.0

        for s in 0 .. STRIPS - 1 do
            for g in 0 .. groups - 1 do
                tile
                    false
                    (NativePtr.add pb (s * MR))
                    BLOCK
                    k
                    (NativePtr.add pv (g * k * NR))
                    (NativePtr.add py (s * MR + g * NR * BLOCK))
                    BLOCK
                    NR

        for g in 0 .. qGroups - 1 do
            let width = min QW (r - g * QW)

            for j in 0 .. width - 1 do
                let column = (g * QW + j) * BLOCK

                for t in 0 .. BLOCK - 1 do
                    yRows[t * QW + j] <- y[column + t]

            for p in 0..PW .. k - 1 do
                sixTile
                    (NativePtr.add pb (p * BLOCK))
                    BLOCK
                    (min PW (k - p))
                    BLOCK
                    pr
                    (NativePtr.add pc ((g * k + p) * QW))

        i <- i + BLOCK

/// C (k x k', column-major, overwritten; k' = r) = A^T (A op(V)) for A m x k (leading dimension lda) and op(V) k x r as
/// for multiply: both products of a power iteration in one pass over A. The rows are split among the cores in whole
/// blocks; the cores' partials are added in part order.
let normalMultiply
    (a: float[])
    (lda: int)
    (m: int)
    (k: int)
    (transV: bool)
    (v: float[])
    (ldv: int)
    (r: int)
    (c: float[])
    =
    let packed = pack transV v ldv k r
    summedOverParts m k r BLOCK (fun partial first last -> normalRows a lda k packed r partial first last) c
