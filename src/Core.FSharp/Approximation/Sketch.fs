namespace LowRank.Core

#nowarn "9" // native pointers in the CountSketch kernel, into arrays pinned with `fixed`

open System
open System.Runtime.CompilerServices
open Microsoft.FSharp.NativeInterop
open MathNet.Numerics.LinearAlgebra

/// A sketching matrix S (m x n) applied to an n x d matrix A as S A. Build one with the Sketch module; the
/// representation is internal so that sparse sketches are never forced into a dense m x n matrix.
[<CustomEquality; NoComparison>]
type Sketch =
    internal
    /// CountSketch (Clarkson and Woodruff 2017): column i of S holds Values[i] in row Hash[i], zeros elsewhere.
    | CountSketch of rows: int * hash: int[] * values: float[]
    /// A dense m x n matrix.
    | DenseSketch of Matrix<float>
    /// The rows of several sketches with the same column count, stacked in order.
    | Stacked of Sketch[]

    override this.Equals(other) =
        match other with
        | :? Sketch as o ->
            match this, o with
            | CountSketch(m1, h1, v1), CountSketch(m2, h2, v2) -> m1 = m2 && h1 = h2 && v1 = v2
            | DenseSketch a, DenseSketch b -> a.Equals b
            | Stacked a, Stacked b -> a = b
            | _ -> false
        | _ -> false

    override this.GetHashCode() =
        match this with
        | CountSketch(m, h, _) -> HashCode.Combine(m, h.Length)
        | DenseSketch a -> HashCode.Combine(a.RowCount, a.ColumnCount)
        | Stacked parts -> parts.Length

    override this.ToString() =
        match this with
        | CountSketch(m, h, _) -> $"CountSketch {m}x{h.Length}"
        | DenseSketch a -> $"Dense {a.RowCount}x{a.ColumnCount}"
        | Stacked parts -> parts |> Array.map string |> String.concat "; " |> sprintf "Stacked [%s]"

/// Builds and applies sketching matrices. Every random sketch is a deterministic function of its seed: it draws
/// from System.Random(seed), whose seeded sequence .NET keeps stable across versions for compatibility.
[<RequireQualifiedAccess>]
module Sketch =

    /// <summary>The number of rows m of S (the sketch size).</summary>
    /// <param name="sketch">S.</param>
    /// <returns>m.</returns>
    [<CompiledName("Rows")>]
    let rec rows (sketch: Sketch) =
        match sketch with
        | CountSketch(m, _, _) -> m
        | DenseSketch s -> s.RowCount
        | Stacked parts -> parts |> Array.sumBy rows

    /// <summary>The number of columns n of S, which must equal the rows of every matrix it is applied to.</summary>
    /// <param name="sketch">S.</param>
    /// <returns>n.</returns>
    [<CompiledName("Columns")>]
    let rec columns (sketch: Sketch) =
        match sketch with
        | CountSketch(_, h, _) -> h.Length
        | DenseSketch s -> s.ColumnCount
        | Stacked parts -> columns parts[0]

    let private checkSize rows columns =
        Guard.positive (nameof rows) rows
        Guard.positive (nameof columns) columns

    /// <summary>A random CountSketch (Clarkson and Woodruff 2017, the "sparse random" sketch of Indyk, Vakilian and Yuan):
    /// each column i has a single nonzero, a random sign +1 or -1 in a uniformly random row h(i).</summary>
    /// <param name="seed">Seed of System.Random; the same seed, rows and columns give the same sketch.</param>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="columns">n &gt;= 1.</param>
    /// <returns>The sketch, stored as two length-n arrays (O(n) memory).</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">rows or columns is less than 1.</exception>
    /// <remarks>For each column in order it draws h(i) = Next(m), then the sign from Next(2).</remarks>
    [<CompiledName("CountSketch")>]
    let countSketch (seed: int) (rows: int) (columns: int) =
        checkSize rows columns
        let random = Random(seed)
        let hash = Array.zeroCreate columns
        let values = Array.zeroCreate columns

        for i in 0 .. columns - 1 do
            hash[i] <- random.Next rows
            values[i] <- if random.Next 2 = 0 then -1.0 else 1.0

        CountSketch(rows, hash, values)

    /// SplitMix64's output function (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA
    /// 2014): a bijection of 64-bit words whose outputs for consecutive inputs pass BigCrush.
    let private splitMix (z: uint64) =
        let z = (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
        let z = (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        z ^^^ (z >>> 31)

    /// Column `index`'s row and sign in the counter-based CountSketch of `seed` with `rows` rows: u = splitMix(splitMix(seed)
    /// + (index + 1) * 0x9E3779B97F4A7C15), row = floor(hi32(u) * rows / 2^32) (Lemire's multiply-shift reduction, bias
    /// below rows / 2^32), sign = +1 when bit 0 of u is 1, else -1.
    let internal hashedEntry (seed: int) (rows: int) (index: int64) =
        let key = splitMix (uint64 (uint32 seed))
        let u = splitMix (key + uint64 (index + 1L) * 0x9E3779B97F4A7C15UL)
        let row = int (((u >>> 32) * uint64 rows) >>> 32)
        struct (row, (if u &&& 1UL = 1UL then 1.0 else -1.0))

    /// <summary>Columns offset, ..., offset + count - 1 of the counter-based CountSketch (<c>hashedCountSketch</c>, for
    /// any n past them), as a sketch of `count` columns: the part of S that multiplies one row block of A, built
    /// without the rest. With 64-bit offsets, for matrices of more than 2^31 rows spread over processes.</summary>
    /// <param name="seed">Seed.</param>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="offset">The first global column (row of A), &gt;= 0.</param>
    /// <param name="count">How many columns, &gt;= 1.</param>
    /// <returns>The block's sketch, m x count.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">rows or count is less than 1, or offset is negative.</exception>
    [<CompiledName("HashedCountSketchColumns")>]
    let hashedCountSketchColumns (seed: int) (rows: int) (offset: int64) (count: int) =
        checkSize rows count

        if offset < 0L then
            raise (ArgumentOutOfRangeException(nameof offset, offset, "Expected offset >= 0."))

        let hash = Array.zeroCreate count
        let values = Array.zeroCreate count

        for i in 0 .. count - 1 do
            let struct (row, sign) = hashedEntry seed rows (offset + int64 i)
            hash[i] <- row
            values[i] <- sign

        CountSketch(rows, hash, values)

    /// <summary>A counter-based CountSketch: column i's row h(i) and sign are a fixed function of (seed, i) alone
    /// (SplitMix64 of the seed and the index), so any process can build any range of columns without the others: row
    /// blocks of a matrix spread over machines, in any order and any number of parts, are sketched by the same S.</summary>
    /// <param name="seed">Seed; the same seed and rows give the same column i whatever `columns` is.</param>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="columns">n &gt;= 1.</param>
    /// <returns>The sketch, stored as two length-n arrays (O(n) memory, O(n) time).</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">rows or columns is less than 1.</exception>
    /// <remarks>Unlike <c>countSketch</c>, which draws from System.Random in column order, column i does not depend on
    /// the columns before it. Its rows are uniform up to a bias below m / 2^32 and its signs fair; h and the sign are
    /// not 2-wise independent in the strict sense of Clarkson and Woodruff's analysis, but SplitMix64's outputs pass
    /// BigCrush. The file format stores the arrays, so saved sketches read back either way.</remarks>

    [<CompiledName("HashedCountSketch")>]
    let hashedCountSketch (seed: int) (rows: int) (columns: int) =
        checkSize rows columns
        hashedCountSketchColumns seed rows 0L columns

    /// <summary>A CountSketch-shaped sketch with given positions and values, as a learned sketch has.</summary>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="hash">h: the row of each column's nonzero, each in [0, m); its length is n &gt;= 1.</param>
    /// <param name="values">The value of each column's nonzero, finite, of length n. Zero is allowed.</param>
    /// <returns>The sketch; the arrays are copied, so later changes to them do not affect it.</returns>
    /// <exception cref="System.ArgumentNullException">hash or values is null.</exception>
    /// <exception cref="System.ArgumentException">the lengths differ or are 0, a hash is outside [0, m), or a value is
    /// not finite.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rows is less than 1.</exception>
    [<CompiledName("FromCountSketch")>]
    let ofCountSketch (rows: int) (hash: int[]) (values: float[]) =
        Guard.positive (nameof rows) rows
        Guard.notNull (nameof hash) hash
        Guard.notNull (nameof values) values

        if hash.Length = 0 || hash.Length <> values.Length then
            raise (
                ArgumentException(
                    $"Expected hash and values of the same length n >= 1, but hash has {hash.Length} entries and values {values.Length}.",
                    nameof values
                )
            )

        match Array.tryFindIndex (fun h -> h < 0 || h >= rows) hash with
        | Some i ->
            raise (ArgumentException($"Expected every hash in [0, {rows}), but hash[{i}] = {hash[i]}.", nameof hash))
        | None -> ()

        match Array.tryFindIndex (Double.IsFinite >> not) values with
        | Some i -> raise (ArgumentException($"Expected finite values, but values[{i}] = {values[i]}.", nameof values))
        | None -> ()

        CountSketch(rows, Array.copy hash, Array.copy values)

    /// <summary>The n x n identity as a sketch: SCW with it is the exact truncated SVD.</summary>
    /// <param name="size">n &gt;= 1.</param>
    /// <returns>A CountSketch with h(i) = i and values 1.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">size is less than 1.</exception>
    [<CompiledName("Identity")>]
    let identity (size: int) =
        Guard.positive (nameof size) size
        CountSketch(size, Array.init size id, Array.create size 1.0)

    /// <summary>A dense Gaussian sketch with independent N(0, 1/m) entries, so that E ||S x||^2 = ||x||^2.</summary>
    /// <param name="seed">Seed of System.Random; the same seed, rows and columns give the same sketch.</param>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="columns">n &gt;= 1.</param>
    /// <returns>The sketch, stored densely (m n numbers). S A costs O(m n d).</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">rows or columns is less than 1.</exception>
    /// <remarks>Entries are drawn column by column with the Box-Muller transform.</remarks>
    [<CompiledName("Gaussian")>]
    let gaussian (seed: int) (rows: int) (columns: int) =
        checkSize rows columns
        let random = Random(seed)
        let sd = 1.0 / sqrt (float rows)

        DenseSketch(Matrix<float>.Build.Dense(rows, columns, fun _ _ -> sd * Dense.standardNormal random))

    /// <summary>A dense sketch with the given entries.</summary>
    /// <param name="matrix">S: nonempty, finite. It is copied.</param>
    /// <returns>The sketch.</returns>
    /// <exception cref="System.ArgumentNullException">matrix is null.</exception>
    /// <exception cref="System.ArgumentException">matrix is empty or has a NaN or infinite entry.</exception>
    [<CompiledName("FromMatrix")>]
    let ofMatrix (matrix: Matrix<float>) =
        Guard.finiteMatrix (nameof matrix) matrix
        DenseSketch(matrix.Clone())

    /// <summary>Stacks sketches' rows: [S1; S2; ...]. Mixed learned+random sketches are built this way, and by Theorem 1
    /// of Indyk, Vakilian and Yuan (NeurIPS 2019) SCW with the stack is never worse than with any one part.</summary>
    /// <param name="sketches">At least one sketch, all with the same number of columns.</param>
    /// <returns>A sketch with the sum of the rows.</returns>
    /// <exception cref="System.ArgumentNullException">sketches or one of its items is null.</exception>
    /// <exception cref="System.ArgumentException">sketches is empty or their column counts differ.</exception>
    [<CompiledName("Stack")>]
    let stack (sketches: seq<Sketch>) =
        Guard.notNull (nameof sketches) sketches
        let parts = Seq.toArray sketches

        if parts.Length = 0 then
            raise (ArgumentException("Expected at least one sketch to stack, but sketches is empty.", nameof sketches))

        parts |> Array.iteri (fun i s -> Guard.notNull $"{nameof sketches}[{i}]" s)
        let n = columns parts[0]

        match Array.tryFindIndex (fun s -> columns s <> n) parts with
        | Some i ->
            raise (
                ArgumentException(
                    $"Expected sketches with the same number of columns, but sketches[0] has {n} and sketches[{i}] has {columns parts[i]}.",
                    nameof sketches
                )
            )
        | None -> Stacked parts

    /// The blocks' rows one after another, as one dense matrix.
    let private stackRows (blocks: Matrix<float>[]) =
        Matrix<float>.Build.DenseOfMatrixArray(Array2D.init blocks.Length 1 (fun i _ -> blocks[i]))

    /// Rejects a product S A whose m x d result would not fit one .NET array (2^31 - 1 elements), before the kernels
    /// compute m d in 32-bit arithmetic.
    /// The dense rows x n matrix of a sketch with `perColumn` nonzeros per column: entry i (column i / perColumn)
    /// holds values[i] in row positions[i]; repeated positions add. The learned sketches of Training and their
    /// differentiable product (Diff.sparseSketch) both form it.
    let internal denseOfPositions (rows: int) (perColumn: int) (positions: int[]) (values: float[]) =
        let n = positions.Length / perColumn
        let dense = Array.zeroCreate (rows * n)

        for i in 0 .. positions.Length - 1 do
            let at = (i / perColumn) * rows + positions[i]
            dense[at] <- dense[at] + values[i]

        Matrix<float>.Build.Dense(rows, n, dense)

    let internal checkOutput (sketch: Sketch) (columns: int) =
        if int64 (rows sketch) * int64 columns > int64 Array.MaxLength then
            raise (
                ArgumentException(
                    $"Expected S A to fit one array, but sketch has {rows sketch} rows and the matrix {columns} columns ({int64 (rows sketch) * int64 columns} entries; at most {Array.MaxLength}).",
                    nameof sketch
                )
            )

    /// Rejects a sketch whose column count differs from the matrix's row count, or whose S A would not fit, naming the
    /// sketch.
    let internal checkFits (sketch: Sketch) (matrix: Matrix<float>) =
        if matrix.RowCount <> columns sketch then
            raise (
                ArgumentException(
                    $"Expected a sketch with as many columns as matrix has rows ({matrix.RowCount}), but sketch is {rows sketch}x{columns sketch}.",
                    nameof sketch
                )
            )

        checkOutput sketch matrix.ColumnCount

    /// The dense CountSketch kernel: result (m x d) += S[:, offset ..) * data (b x d), four columns per pass so each
    /// hash and value is loaded once per four updates. Pointers, because the scatter's bounds checks cost more than
    /// the arithmetic (the caller has validated every index).
    let private countSketchDense m (hash: int[]) (values: float[]) offset b d (data: float[]) (result: float[]) =
        use ph = fixed hash
        use pv = fixed values
        use pd = fixed data
        use pr = fixed result
        let mutable j = 0

        while j + 4 <= d do
            let s0, s1, s2, s3 =
                NativePtr.add pd (j * b),
                NativePtr.add pd ((j + 1) * b),
                NativePtr.add pd ((j + 2) * b),
                NativePtr.add pd ((j + 3) * b)

            let t0, t1, t2, t3 =
                NativePtr.add pr (j * m),
                NativePtr.add pr ((j + 1) * m),
                NativePtr.add pr ((j + 2) * m),
                NativePtr.add pr ((j + 3) * m)

            for i in 0 .. b - 1 do
                let h = NativePtr.get ph (offset + i)
                let v = NativePtr.get pv (offset + i)
                NativePtr.set t0 h (NativePtr.get t0 h + v * NativePtr.get s0 i)
                NativePtr.set t1 h (NativePtr.get t1 h + v * NativePtr.get s1 i)
                NativePtr.set t2 h (NativePtr.get t2 h + v * NativePtr.get s2 i)
                NativePtr.set t3 h (NativePtr.get t3 h + v * NativePtr.get s3 i)

            j <- j + 4

        while j < d do
            let s0 = NativePtr.add pd (j * b)
            let t0 = NativePtr.add pr (j * m)

            for i in 0 .. b - 1 do
                let h = NativePtr.get ph (offset + i)
                NativePtr.set t0 h (NativePtr.get t0 h + NativePtr.get pv (offset + i) * NativePtr.get s0 i)

            j <- j + 1

    /// S[:, offset .. offset + block.rows) * block, for a validated block. Allocates only the m x d result.
    let rec internal applyUnchecked (sketch: Sketch) (offset: int) (block: Matrix<float>) : Matrix<float> =
        let b, d = block.RowCount, block.ColumnCount

        match sketch with
        | CountSketch(m, hash, values) ->
            let result = Array.zeroCreate<float>(m * d)

            match block.AsColumnMajorArray() with
            | null ->
                // Sparse storage: O(nnz) by visiting the stored entries only.
                for struct (i, j, x) in block.EnumerateIndexed(Zeros.AllowSkip) do
                    let p = offset + i
                    result[j * m + hash[p]] <- result[j * m + hash[p]] + values[p] * x
            | data -> countSketchDense m hash values offset b d data result

            Matrix<float>.Build.Dense(m, d, result)
        | DenseSketch s ->
            let columns =
                if offset = 0 && b = s.ColumnCount then
                    s
                else
                    s.SubMatrix(0, s.RowCount, offset, b)

            Dense.multiply columns block
        | Stacked parts -> parts |> Array.map (fun part -> applyUnchecked part offset block) |> stackRows

    /// S[:, offset .. offset + b) A (m x d) of a CountSketch for b rows of A given densely as their transpose (d x b),
    /// each row added, signed, into its row of S A on every core (RowMajorGemm.countSketch), with the rows' largest
    /// magnitude and plain sum of squares from the same pass.
    let internal countSketchByRows m (hash: int[]) (values: float[]) offset (transposed: Matrix<float>) =
        let d, b = transposed.RowCount, transposed.ColumnCount
        let c = Array.zeroCreate<float>(d * m)

        let squares =
            RowMajorGemm.countSketch (transposed.AsColumnMajorArray()) b d m hash values offset c

        Dense.transpose (Matrix<float>.Build.Dense(d, m, c)), squares

    /// S[:, offset .. offset + b) A (m x d) for b rows of A stored by rows, given as their transpose (d x b,
    /// column-major: the rows contiguous), without transposing them: a CountSketch adds each row, signed, into its row
    /// of S A (RowMajorGemm.countSketch, on every core); a dense sketch is S (A^T)^T; stacked sketches part by part.
    let rec internal applyTransposedUnchecked
        (sketch: Sketch)
        (offset: int)
        (transposed: Matrix<float>)
        : Matrix<float> =
        let b = transposed.ColumnCount

        match sketch, transposed.AsColumnMajorArray() with
        | CountSketch(m, hash, values), x when not (isNull x) -> fst (countSketchByRows m hash values offset transposed)
        | CountSketch _, _ -> applyUnchecked sketch offset (transposed.Transpose())
        | DenseSketch s, _ ->
            let columns =
                if offset = 0 && b = s.ColumnCount then
                    s
                else
                    s.SubMatrix(0, s.RowCount, offset, b)

            Dense.gemm false columns true transposed
        | Stacked parts, _ ->
            parts
            |> Array.map (fun part -> applyTransposedUnchecked part offset transposed)
            |> stackRows

    /// <summary>Sketches one block of A's rows: S[:, rowOffset .. rowOffset + b) * block, for streaming a tall A through
    /// S one row block at a time. Summing the results over blocks that partition A's rows gives S A.</summary>
    /// <param name="rowOffset">The index in A of the block's first row; 0 &lt;= rowOffset and rowOffset + b &lt;= n.</param>
    /// <param name="block">b x d rows of A: nonempty, finite, dense or sparse.</param>
    /// <param name="sketch">S (m x n).</param>
    /// <returns>A dense m x d matrix.</returns>
    /// <exception cref="System.ArgumentNullException">block or sketch is null.</exception>
    /// <exception cref="System.ArgumentException">block is empty or has a NaN or infinite entry.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">the block does not lie within S's columns.</exception>
    /// <remarks>A CountSketch costs O(nnz(block) + m d); a dense sketch O(m b d).</remarks>
    [<CompiledName("ApplyToRowBlock")>]
    let applyToRowBlock (rowOffset: int) (block: Matrix<float>) (sketch: Sketch) =
        Guard.notNull (nameof sketch) sketch
        Guard.finiteMatrix (nameof block) block
        let n = columns sketch

        // In 64-bit arithmetic: rowOffset + rows overflows int for offsets near Int32.MaxValue.
        if rowOffset < 0 || int64 rowOffset + int64 block.RowCount > int64 n then
            raise (
                ArgumentOutOfRangeException(
                    nameof rowOffset,
                    rowOffset,
                    $"Expected 0 <= rowOffset and rowOffset + block rows <= {n} (the sketch's columns), but rowOffset = {rowOffset} and block has {block.RowCount} rows."
                )
            )

        checkOutput sketch block.ColumnCount
        applyUnchecked sketch rowOffset block

    /// <summary>S A: the m x d sketch of an n x d matrix A.</summary>
    /// <param name="matrix">A: nonempty, finite, dense or sparse, with as many rows as S has columns.</param>
    /// <param name="sketch">S (m x n).</param>
    /// <returns>A dense m x d matrix.</returns>
    /// <exception cref="System.ArgumentNullException">matrix or sketch is null.</exception>
    /// <exception cref="System.ArgumentException">matrix is empty, has a NaN or infinite entry, or its row count
    /// differs from the sketch's column count.</exception>
    /// <remarks>A CountSketch costs O(nnz(A) + m d) and never forms S; a dense sketch costs O(m n d).</remarks>
    [<CompiledName("Apply")>]
    let apply (matrix: Matrix<float>) (sketch: Sketch) =
        Guard.notNull (nameof sketch) sketch
        Guard.finiteMatrix (nameof matrix) matrix
        checkFits sketch matrix
        applyUnchecked sketch 0 matrix

    /// <summary>The dense m x n matrix S, for inspection and tests; O(m n) memory.</summary>
    /// <param name="sketch">S.</param>
    /// <returns>A new dense matrix.</returns>
    /// <exception cref="System.ArgumentNullException">sketch is null.</exception>
    [<CompiledName("ToMatrix")>]
    let toMatrix (sketch: Sketch) =
        Guard.notNull (nameof sketch) sketch

        let rec dense sketch =
            match sketch with
            | CountSketch(m, hash, values) ->
                let s = Matrix<float>.Build.Dense(m, hash.Length)
                hash |> Array.iteri (fun i h -> s[h, i] <- values[i])
                s
            | DenseSketch s -> s.Clone()
            | Stacked parts -> parts |> Array.map dense |> stackRows

        dense sketch
