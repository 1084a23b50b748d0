/// The power iterations' products for an A stored by rows (C order: NumPy's default and a .npy file's), so that a file
/// is used as it lies instead of transposed into column-major storage first (a quarter of a whole `approx` command on an
/// 80,000 x 768 matrix). x holds A's n x d values row after row, which is A^T's column-major storage. The register tiles
/// are TallGemm's with the roles swapped:
///   - A V: six rows of A at a time by TallGemm.sixTile (each row's entries broadcast against V's rows, packed 32 wide);
///   - A^T Y: sixteen columns of A by TallGemm.tile over a block of 64 rows, added into a d x r partial per core;
///   - A^T (A V): both on each block of 64 rows (393 KB at d = 768) while it is in cache, one pass over A;
///   - S A for a CountSketch: each row of A added, signed, into row h(i) of S A.
/// Every sum runs in a fixed order and the cores' partials are added in order, so results are reproducible bit for bit.
module internal LowRank.Core.RowMajorGemm

#nowarn "9" // native pointers into buffers pinned with `fixed`

open System
open System.Runtime.CompilerServices
open System.Threading.Tasks
open Microsoft.FSharp.NativeInterop
open LowRank.Core.TallGemm

/// Whether A V, A^T Y or A^T (A V) of a row-major n x d A and r columns should go to these kernels (as TallGemm.fits).
let fits (n: int) (d: int) (r: int) =
    supported && n >= 4096 && d >= 16 && r >= 4 && r <= 64

/// V (d x r, given as the column-major r x d V^T) packed by rows in groups of 32 columns: V[p, g 32 + c] at
/// (g d + p) 32 + c, zero-padded.
let private packRows (vt: float[]) (d: int) (r: int) =
    let groups = (r + QW - 1) / QW
    let packed = Array.zeroCreate<float>(groups * d * QW)

    for g in 0 .. groups - 1 do
        for p in 0 .. d - 1 do
            for c in 0 .. min QW (r - g * QW) - 1 do
                packed[(g * d + p) * QW + c] <- vt[g * QW + c + p * r]

    packed

/// rows[t, 0 .. 31] = A[i + t, :] V_g for t < count (rows zeroed first): six rows of A at a time.
let inline private rowsTimes
    (px: nativeptr<float>)
    d
    (pv: nativeptr<float>)
    (rows: float[])
    (pr: nativeptr<float>)
    i
    count
    =
    Array.Clear rows

    for t in 0..PW .. count - 1 do
        sixTile (NativePtr.add px ((i + t) * d)) d (min PW (count - t)) d pv (NativePtr.add pr (t * QW))

/// partial[p, :] += sum_t A[i + t, p] Y[t, :] for t < count, Y's rows packed in groups of NR ((g BLOCK + t) NR + c):
/// sixteen columns of A at a time by the accumulating tile, the last d mod 16 one by one.
let inline private addTransposed
    (x: float[])
    (px: nativeptr<float>)
    d
    groups
    (packed: float[])
    (py: nativeptr<float>)
    (partial: float[])
    (pc: nativeptr<float>)
    i
    count
    =
    for p0 in 0..MR .. d - MR do
        for g in 0 .. groups - 1 do
            tile
                true
                (NativePtr.add px (i * d + p0))
                d
                count
                (NativePtr.add py (g * BLOCK * NR))
                (NativePtr.add pc (p0 + g * NR * d))
                d
                NR

    for p in d / MR * MR .. d - 1 do
        for j in 0 .. groups * NR - 1 do
            let g, c = j / NR, j % NR
            let mutable sum = partial[p + j * d]

            for t in 0 .. count - 1 do
                sum <- Math.FusedMultiplyAdd(x[(i + t) * d + p], packed[(g * BLOCK + t) * NR + c], sum)

            partial[p + j * d] <- sum

/// For each block of rows [i, i + count) in [first, last) (64 rows, the last one shorter): A_block V by rowsTimes, 32
/// columns at a time, each entry handed to `place j i t value` (column j, row t of the block at i), then
/// `after i count`.
let inline private eachBlockTimes
    (x: float[])
    d
    (packed: float[])
    r
    first
    last
    ([<InlineIfLambda>] place: int -> int -> int -> float -> unit)
    ([<InlineIfLambda>] after: int -> int -> unit)
    =
    let rows = Array.zeroCreate<float>(BLOCK * QW)
    use px = fixed x
    use pv = fixed packed
    use pr = fixed rows
    let mutable i = first

    while i < last do
        let count = min BLOCK (last - i)

        for q in 0 .. (r + QW - 1) / QW - 1 do
            rowsTimes px d (NativePtr.add pv (q * d * QW)) rows pr i count

            for c in 0 .. min QW (r - q * QW) - 1 do
                for t in 0 .. count - 1 do
                    place (q * QW + c) i t rows[t * QW + c]

        after i count
        i <- i + count

/// Rows [first, last) of Y = A V (n x r, column-major, leading dimension n).
[<MethodImpl(MethodImplOptions.NoInlining)>]
let private productRows (x: float[]) n d (packed: float[]) r (y: float[]) first last =
    eachBlockTimes x d packed r first last (fun j i t value -> y[j * n + i + t] <- value) (fun _ _ -> ())

/// The number of parts of n rows: one per core, each of at least STRIP rows.
let private partsOf (n: int) =
    max 1 (min Environment.ProcessorCount (n / STRIP))

/// Y = A V (n x r, column-major), V given as V^T (r x d, column-major). Rows are split among the cores.
let multiply (x: float[]) (n: int) (d: int) (vt: float[]) (r: int) (y: float[]) =
    let packed = packRows vt d r
    inParts n BLOCK (partsOf n) (fun _ first last -> productRows x n d packed r y first last)

/// The cores' d x (groups NR) partials of `body partial first last` over rows split in whole blocks, added in part
/// order into C (d x r, column-major, overwritten).
let private summed n d r (body: float[] -> int -> int -> unit) (c: float[]) =
    let parts = partsOf n

    let partials =
        Array.init parts (fun _ -> Array.zeroCreate<float>(d * ((r + NR - 1) / NR) * NR))

    inParts n BLOCK parts (fun part first last -> body partials[part] first last)

    for e in 0 .. d * r - 1 do
        let mutable sum = 0.0

        for partial in partials do
            sum <- sum + partial[e]

        c[e] <- sum

/// Rows [first, last) of A^T Y added into `partial`, Y (n x r, column-major) packed block by block.
[<MethodImpl(MethodImplOptions.NoInlining)>]
let private transposedRows (x: float[]) n d (y: float[]) r (partial: float[]) first last =
    let groups = (r + NR - 1) / NR
    let packed = Array.zeroCreate<float>(groups * BLOCK * NR)
    use px = fixed x
    use py = fixed packed
    use pc = fixed partial
    let mutable i = first

    while i < last do
        let count = min BLOCK (last - i)

        for j in 0 .. r - 1 do
            let g, c = j / NR, j % NR

            for t in 0 .. count - 1 do
                packed[(g * BLOCK + t) * NR + c] <- y[j * n + i + t]

        addTransposed x px d groups packed py partial pc i count
        i <- i + count

/// W = A^T Y (d x r, column-major, overwritten) for Y n x r (column-major).
let transposedMultiply (x: float[]) (n: int) (d: int) (y: float[]) (r: int) (w: float[]) =
    summed n d r (fun partial first last -> transposedRows x n d y r partial first last) w

/// Rows [first, last) of A^T (A V) added into `partial`: each block's A V formed by rowsTimes, repacked in groups of
/// NR, and its A^T (A V) added while the block is in cache.
[<MethodImpl(MethodImplOptions.NoInlining)>]
let private normalRows (x: float[]) d (packedV: float[]) r (partial: float[]) first last =
    let groups = (r + NR - 1) / NR
    let packed = Array.zeroCreate<float>(groups * BLOCK * NR)
    use px = fixed x
    use py = fixed packed
    use pc = fixed partial

    eachBlockTimes
        x
        d
        packedV
        r
        first
        last
        (fun j _ t value -> packed[(j / NR * BLOCK + t) * NR + j % NR] <- value)
        (fun i count -> addTransposed x px d groups packed py partial pc i count)

/// W = A^T (A V) (d x r, column-major, overwritten), V given as V^T (r x d): both products of a power iteration in one
/// pass over A.
let normalMultiply (x: float[]) (n: int) (d: int) (vt: float[]) (r: int) (w: float[]) =
    let packed = packRows vt d r
    summed n d r (fun partial first last -> normalRows x d packed r partial first last) w

/// (S A)^T (d x m, column-major, overwritten) for the CountSketch S of `hash` and `values` (its columns offset ..
/// offset + n - 1): row i of A added, times values[offset + i], into column hash[offset + i]. Also returns, from the
/// same pass, A's largest magnitude and its plain sum of squares (Dense.twoNorm's fast path; NaN or infinity in A makes
/// the sum not finite). Rows split among the cores, each with its own d x m partial, added in order; any machine
/// (System.Numerics vectors).
let countSketch (x: float[]) (n: int) (d: int) (m: int) (hash: int[]) (values: float[]) (offset: int) (c: float[]) =
    let parts = partsOf n
    let partials = Array.init parts (fun _ -> Array.zeroCreate<float>(d * m))
    let norms = Array.zeroCreate<struct (float * float)> parts
    let width = Numerics.Vector<float>.Count

    inParts n 1 parts (fun part first last ->
        let sum = partials[part]
        let mutable largest = Numerics.Vector<float>.Zero
        let mutable squares = Numerics.Vector<float>.Zero
        let mutable top = 0.0
        let mutable tail = 0.0

        for i in first .. last - 1 do
            let column = hash[offset + i] * d
            let v = values[offset + i]
            let row = i * d
            let mutable p = 0

            while p <= d - width do
                let entries = Numerics.Vector<float>(x, row + p)
                let target = Numerics.Vector<float>(sum, column + p)
                (target + v * entries).CopyTo(sum, column + p)
                largest <- Numerics.Vector.Max(largest, Numerics.Vector.Abs entries)
                squares <- squares + entries * entries
                p <- p + width

            while p < d do
                let entry = x[row + p]
                sum[column + p] <- sum[column + p] + v * entry
                top <- max top (abs entry)
                tail <- tail + entry * entry
                p <- p + 1

        for lane in 0 .. width - 1 do
            top <- max top largest[lane]

        norms[part] <- struct (top, Numerics.Vector.Sum squares + tail))

    for e in 0 .. d * m - 1 do
        let mutable total = 0.0

        for partial in partials do
            total <- total + partial[e]

        c[e] <- total

    norms
    |> Array.fold (fun (struct (top, sum)) (struct (t, s)) -> struct (max top t, sum + s)) (struct (0.0, 0.0))
