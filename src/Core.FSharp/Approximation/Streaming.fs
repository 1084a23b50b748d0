namespace LowRank.Core

open System
open System.IO
open MathNet.Numerics.LinearAlgebra

/// <summary>The sketch S that a streaming or distributed SCW applies to A one row block at a time.</summary>
[<RequireQualifiedAccess>]
type BlockSketch =
    /// The counter-based CountSketch of (seed, rows) (<c>Sketch.hashedCountSketch</c>): column i comes from (seed, i)
    /// alone, so a block's columns are built on demand and A may have any number of rows.
    | Hashed of seed: int * rows: int
    /// A sketch with exactly n columns, n the rows of A (for example a trained sketch), the same on every rank.
    | Given of Sketch

/// The pieces of SCW that work on row blocks: S A accumulated block by block, and [A V]_k from the R factor of A V built
/// block by block (a tall-skinny QR), so that A V itself is never held.
module internal RowBlocks =

    /// S's rows.
    let sketchRows (sketch: BlockSketch) =
        match sketch with
        | BlockSketch.Hashed(_, rows) -> rows
        | BlockSketch.Given s -> Sketch.rows s

    /// Rejects a null sketch, m &lt; 1, k &lt; 1 or m &lt; k, naming the argument.
    let checkRows (rank: int) (sketch: BlockSketch) =
        Guard.notNull "sketch" sketch

        match sketch with
        | BlockSketch.Hashed(_, rows) -> Guard.positive "rows" rows
        | BlockSketch.Given s -> Guard.notNull "sketch" s

        Guard.positive "rank" rank

        if sketchRows sketch < rank then
            raise (
                ArgumentException(
                    $"Expected a sketch with at least rank = {rank} rows, but it has {sketchRows sketch}: its row space cannot hold a rank-{rank} approximation.",
                    "sketch"
                )
            )

    /// S[:, offset .. offset + b) * block (m x d), for a validated block.
    let apply (sketch: BlockSketch) (offset: int64) (block: Matrix<float>) =
        match sketch with
        | BlockSketch.Hashed(seed, rows) ->
            Sketch.applyUnchecked (Sketch.hashedCountSketchColumns seed rows offset block.RowCount) 0 block
        | BlockSketch.Given s -> Sketch.applyUnchecked s (int offset) block

    /// V^T (r x d): the numerical row space of S A, or None when S A = 0 (Scw.approximateUnchecked's threshold).
    let rowSpace (sa: Matrix<float>) =
        let svd = Dense.thinSvd sa
        let r = Dense.numericalRankOf sa.RowCount sa.ColumnCount svd.S

        if r = 0 then
            None
        else
            Some(svd.Vt.SubMatrix(0, r, 0, sa.ColumnCount))

    /// The R factor (r x r) of [top; y], both with r columns: adding a block of A V's rows to the QR of those before it.
    let stackR (top: Matrix<float>) (y: Matrix<float>) =
        let r = top.ColumnCount

        if y.RowCount = 0 then
            top
        else
            let stacked = top.Stack y
            let _, factor = Dense.qr stacked
            factor.SubMatrix(0, r, 0, r)

    /// From the R factor of A V (A V = Q R): W_k (r x k'), [A V]_k's singular values, Right = W_k^T V^T (k' x d), with
    /// k' = min(k, r), and ||A V - [A V]_k||_F (the tail of R's singular values, which are A V's). Then
    /// [A V]_k V^T = (A V W_k) Right, and A V W_k = Q U_k Sigma_k has orthogonal columns.
    let finish (rank: int) (r: Matrix<float>) (vt: Matrix<float>) =
        let svd = Dense.thinSvd r
        let kept = min rank r.ColumnCount
        let wk = Dense.transpose (svd.Vt.SubMatrix(0, kept, 0, r.ColumnCount))
        wk, svd.S[.. kept - 1], Dense.gemm true wk false vt, Dense.twoNorm svd.S[kept..]

    /// ||block - y V^T||_F^2 for y = block V: the part of a block outside V's span, formed in `into` (b x d, reused by
    /// the caller from block to block). With the tail of finish it gives the SCW error without the cancellation of
    /// ||A||_F^2 - sum sigma_i^2, since ||A - [A V]_k V^T||_F^2 = ||A - A V V^T||_F^2 + ||A V - [A V]_k||_F^2.
    let outsideSquared (block: Matrix<float>) (y: Matrix<float>) (vt: Matrix<float>) (into: Matrix<float>) =
        Dense.gemmInto false y false vt into |> ignore
        block.Subtract(into, into)
        let norm = Dense.twoNorm (Dense.storedValues into)
        norm * norm

/// <summary>S A of a counter-based CountSketch accumulated over row blocks of A: the state of a sketch of a matrix that
/// arrives in pieces (a stream, files, or the ranks of a cluster). Two states of the same sketch merge by adding, and a
/// state is saved and read back bit for bit, so partial sketches can be combined in any order and on any machine.
/// </summary>
[<NoComparison; CustomEquality>]
type SketchState = internal {
    /// The sketch's seed.
    Seed: int
    /// m, the sketch's rows.
    SketchRows: int
    /// d, A's columns.
    Width: int
    /// How many rows of A have been added.
    Covered: int64
    /// S A so far, m x d, column-major.
    Sum: float[]
} with

    /// The sketch's seed.
    member this.SketchSeed = this.Seed

    /// m, the rows of S and of S A.
    member this.Rows = this.SketchRows

    /// d, the columns of A and of S A.
    member this.Columns = this.Width

    /// How many rows of A the state holds (summed over merged states).
    member this.RowsCovered = this.Covered

    /// S A so far, as a new m x d matrix.
    member this.Value =
        Matrix<float>.Build.Dense(this.SketchRows, this.Width, Array.copy this.Sum)

    override this.Equals(other) =
        match other with
        | :? SketchState as o ->
            this.Seed = o.Seed
            && this.SketchRows = o.SketchRows
            && this.Width = o.Width
            && this.Covered = o.Covered
            && this.Sum = o.Sum
        | _ -> false

    override this.GetHashCode() =
        HashCode.Combine(this.Seed, this.SketchRows, this.Width, this.Covered)

    override this.ToString() =
        $"SketchState: seed {this.Seed}, {this.SketchRows} x {this.Width}, {this.Covered} rows of A"

/// Builds, merges, saves and reads sketch states.
[<RequireQualifiedAccess>]
module SketchState =

    [<Literal>]
    let private Magic = "LRSKSTAT"

    [<Literal>]
    let private Version = 1us

    /// The most rows of A a state may cover, 2^53: every count up to it is exact as a float64, and no matrix comes near
    /// it (2^53 rows of one float64 are 64 PiB); a larger count in a file is forged or corrupted.
    [<Literal>]
    let private MaxCovered = 9007199254740992L

    /// covered + more, rejected beyond MaxCovered (where int64 addition would also, in the end, wrap to a negative count).
    let private coveredSum (parameter: string) (covered: int64) (more: int64) =
        if more > MaxCovered - covered then
            raise (
                ArgumentException(
                    $"Expected at most 2^53 rows covered in all, but {covered} + {more} exceed it.",
                    parameter
                )
            )

        covered + more

    /// <summary>The state of no rows yet: S A = 0.</summary>
    /// <param name="seed">The counter-based CountSketch's seed (Sketch.hashedCountSketch).</param>
    /// <param name="rows">m &gt;= 1.</param>
    /// <param name="columns">d &gt;= 1, A's columns.</param>
    /// <returns>The empty state.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">rows or columns is less than 1, or m d exceeds an array.</exception>
    [<CompiledName("Empty")>]
    let empty (seed: int) (rows: int) (columns: int) =
        Guard.positive (nameof rows) rows
        Guard.positive (nameof columns) columns

        if int64 rows * int64 columns > int64 Array.MaxLength then
            raise (
                ArgumentOutOfRangeException(nameof columns, columns, $"Expected rows x columns <= {Array.MaxLength}.")
            )

        {
            Seed = seed
            SketchRows = rows
            Width = columns
            Covered = 0L
            Sum = Array.zeroCreate (rows * columns)
        }

    /// <summary>Adds one row block of A: the new state's S A is the old one plus S[:, rowOffset .. rowOffset + b) block.
    /// The blocks added to states that are later merged must not overlap (each row of A is added once).</summary>
    /// <param name="rowOffset">The index in A of the block's first row, &gt;= 0.</param>
    /// <param name="block">b x d rows of A: nonempty, finite, dense or sparse.</param>
    /// <param name="state">The state to add to (unchanged).</param>
    /// <returns>A new state.</returns>
    /// <exception cref="System.ArgumentNullException">block or state is null.</exception>
    /// <exception cref="System.ArgumentException">block is empty, not finite, its columns differ from the state's, or it
    /// takes the rows covered beyond 2^53.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rowOffset is negative.</exception>
    /// <remarks>O(nnz(block) + m d): the block's part of S is built from (seed, row index) alone.</remarks>
    [<CompiledName("Add")>]
    let add (rowOffset: int64) (block: Matrix<float>) (state: SketchState) =
        Guard.notNull (nameof state) state
        Guard.finiteMatrix (nameof block) block

        if rowOffset < 0L then
            raise (ArgumentOutOfRangeException(nameof rowOffset, rowOffset, "Expected rowOffset >= 0."))

        if block.ColumnCount <> state.Width then
            raise (
                ArgumentException(
                    $"Expected a block with the state's {state.Width} columns, but block is {Guard.shape block}.",
                    nameof block
                )
            )

        let part =
            RowBlocks.apply (BlockSketch.Hashed(state.Seed, state.SketchRows)) rowOffset block

        let sum = Array.copy state.Sum
        let values = part.AsColumnMajorArray()

        for i in 0 .. sum.Length - 1 do
            sum[i] <- sum[i] + values[i]

        {
            state with
                Sum = sum
                Covered = coveredSum (nameof block) state.Covered (int64 block.RowCount)
        }

    /// <summary>Merges two states of the same sketch built from disjoint row blocks: S A of their union.</summary>
    /// <param name="first">A state.</param>
    /// <param name="second">A state with the same seed, rows and columns.</param>
    /// <returns>A new state whose S A is the sum (addition is commutative; in floating point the order of a long chain
    /// of merges changes the last bits).</returns>
    /// <exception cref="System.ArgumentNullException">first or second is null.</exception>
    /// <exception cref="System.ArgumentException">the states belong to different sketches or shapes, or together they
    /// cover more than 2^53 rows.</exception>
    [<CompiledName("Merge")>]
    let merge (first: SketchState) (second: SketchState) =
        Guard.notNull (nameof first) first
        Guard.notNull (nameof second) second

        if
            first.Seed <> second.Seed
            || first.SketchRows <> second.SketchRows
            || first.Width <> second.Width
        then
            raise (
                ArgumentException(
                    $"Expected states of the same sketch, but first is (seed {first.Seed}, {first.SketchRows} x {first.Width}) and second is (seed {second.Seed}, {second.SketchRows} x {second.Width}).",
                    nameof second
                )
            )

        {
            first with
                Sum = Array.map2 (+) first.Sum second.Sum
                Covered = coveredSum (nameof second) first.Covered second.Covered
        }

    /// <summary>The state's bytes: "LRSKSTAT", version 1, seed, m, d (int32), rows covered (int64, at most 2^53), S A as
    /// m d finite float64 in column-major order, then the CRC-32 of everything before it; little-endian. Readers check
    /// the checksum and then every field.</summary>
    /// <param name="state">The state.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="System.ArgumentNullException">state is null.</exception>
    [<CompiledName("ToBytes")>]
    let toBytes (state: SketchState) =
        Guard.notNull (nameof state) state

        Framed.write Magic Version (fun w ->
            w.Write state.Seed
            w.Write state.SketchRows
            w.Write state.Width
            w.Write state.Covered
            state.Sum |> Array.iter w.Write)

    let private parse (source: string) (bytes: byte[]) =
        Framed.read source "sketch state" Magic Version bytes (fun r ->
            let seed = r.ReadInt32()
            let rows = Framed.count r "rows" 1 (int64 Int32.MaxValue)
            let columns = Framed.count r "columns" 1 (int64 Array.MaxLength / int64 rows)
            let covered = r.ReadInt64()

            if covered < 0L || covered > MaxCovered then
                raise (InvalidDataException $"the rows covered, {covered}, are outside [0, 2^53].")

            {
                Seed = seed
                SketchRows = rows
                Width = columns
                Covered = covered
                Sum = Framed.finiteDoubles r "S A" (rows * columns)
            })

    /// <summary>Reads a state from toBytes' format, checking magic, version, CRC-32 and sizes first.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The state, equal to the one written.</returns>
    /// <exception cref="System.ArgumentNullException">bytes is null.</exception>
    /// <exception cref="System.IO.InvalidDataException">the bytes are not a valid state; the message says what is wrong.</exception>
    [<CompiledName("FromBytes")>]
    let ofBytes (bytes: byte[]) =
        Guard.notNull (nameof bytes) bytes
        parse "bytes" bytes

    /// <summary>Saves a state (toBytes' format) under a temporary name renamed into place, so an interrupted save
    /// never leaves a partial file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="state">The state.</param>
    /// <exception cref="System.ArgumentNullException">path or state is null.</exception>
    /// <exception cref="System.IO.IOException">the file cannot be written.</exception>
    [<CompiledName("Save")>]
    let save (path: string) (state: SketchState) =
        Guard.notNull (nameof path) path
        Framed.writeFile path (toBytes state)

    /// <summary>Reads a state saved by save.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The state.</returns>
    /// <exception cref="System.ArgumentNullException">path is null.</exception>
    /// <exception cref="System.IO.FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">the file is not a valid state; the message names it.</exception>
    [<CompiledName("Load")>]
    let load (path: string) =
        Guard.notNull (nameof path) path
        parse path (File.ReadAllBytes path)

/// <summary>SCW of a matrix streamed through memory: written to a file, its left factor needs no memory at all.</summary>
[<NoComparison; NoEquality>]
type StreamedApproximation = {
    /// n, the rows of A (and of the left factor written to the file).
    Rows: int
    /// k' x d, orthonormal rows: the approximation's row space, as LowRankApproximation.Right.
    Right: Matrix<float>
    /// The k' singular values, descending.
    SingularValues: float[]
    /// ||A - SCW(S, A)||_F, as ||A - A V V^T||_F^2 (summed over blocks) plus the tail of A V's singular values beyond k:
    /// no cancellation, so even a tiny error keeps its digits.
    Error: float
}

/// <summary>SCW(S, A) of a matrix read one row block at a time, in two passes over A: the first accumulates S A, the
/// second A V block by block into the R factor of a tall-skinny QR (A V = Q R), so neither A nor A V is ever held.
/// [A V]_k V^T then comes from the SVD of the r x r factor R, and the left factor A V W_k from each block's A V.</summary>
[<RequireQualifiedAccess>]
module Streaming =

    let private checkSketch (rank: int) (sketch: BlockSketch) =
        Guard.notNull (nameof sketch) sketch

        RowBlocks.checkRows rank sketch

    let private checkShape (rank: int) (sketch: BlockSketch) (n: int) (d: int) =
        match sketch with
        | BlockSketch.Given s when Sketch.columns s <> n ->
            raise (
                ArgumentException(
                    $"Expected a sketch with one column per row of the matrix ({n}), but it has {Sketch.columns s}.",
                    nameof sketch
                )
            )
        | _ -> ()

        if rank > min n d then
            raise (
                ArgumentOutOfRangeException(
                    nameof rank,
                    rank,
                    $"Expected 1 <= rank <= min(n, d) = {min n d} for the {n}x{d} matrix, but rank = {rank}."
                )
            )

    /// The two passes over `blocks` (called twice; it must give the same rows both times, in the same order). Returns
    /// n, ||A - SCW(S, A)||_F (when measureError, else NaN unless S A = 0) and, unless S A = 0, (W_k, sigma, Right);
    /// `keep` receives each block's A V (b x r) in pass two. The error costs b d r flops a block more.
    let private twoPass
        (measureError: bool)
        (powerIterations: int)
        (rank: int)
        (sketch: BlockSketch)
        (blocks: unit -> seq<Matrix<float>>)
        (keep: Matrix<float> -> unit)
        =
        checkSketch rank sketch
        let m = RowBlocks.sketchRows sketch
        let mutable sa: Matrix<float> option = None
        let mutable n = 0L
        let mutable squares = 0.0

        for block in blocks () do
            Guard.finiteMatrix "block" block

            let sum =
                match sa with
                | Some sum when block.ColumnCount <> sum.ColumnCount ->
                    raise (
                        ArgumentException(
                            $"Expected every block to have {sum.ColumnCount} columns, but the block at row {n} is {Guard.shape block}.",
                            nameof blocks
                        )
                    )
                | Some sum -> sum
                | None ->
                    let sum = Matrix<float>.Build.Dense(m, block.ColumnCount)
                    sa <- Some sum
                    sum

            (match sketch with
             | BlockSketch.Given s when int64 (Sketch.columns s) < n + int64 block.RowCount ->
                 raise (
                     ArgumentException(
                         $"Expected a sketch with one column per row of the matrix, but the rows exceed its {Sketch.columns s} columns.",
                         nameof sketch
                     )
                 )
             | _ -> ())

            sum.Add(RowBlocks.apply sketch n block, sum)
            let norm = Dense.twoNorm (Dense.storedValues block)
            squares <- squares + norm * norm
            n <- n + int64 block.RowCount

        let sa =
            match sa with
            | Some sum -> sum
            | None -> raise (ArgumentException("Expected at least one row block, but there are none.", nameof blocks))

        if n > int64 Int32.MaxValue then
            raise (ArgumentException($"Expected at most {Int32.MaxValue} rows, but there are {n}.", nameof blocks))

        let n, d = int n, sa.ColumnCount
        checkShape rank sketch n d

        match RowBlocks.rowSpace sa with
        | None -> n, sqrt squares, None
        | Some vt ->
            // Power iterations, one pass each: V <- orth(A^T A V) = orth(sum_b A_b^T (A_b V)). In-memory subspace
            // iteration orthonormalises A V between A and A^T (HMT Algorithm 4.4); here that would cost a second pass
            // and n r numbers spilled per iteration, for directions below sqrt(eps) sigma_1 only, whose share of a
            // rank-k error is below eps ||A||_F.
            let mutable vt = vt

            for _ in 1..powerIterations do
                let z = Matrix<float>.Build.Dense(d, vt.RowCount)

                for block in blocks () do
                    if block.ColumnCount <> d then
                        raise (
                            ArgumentException(
                                "Expected every pass to give the same blocks as the first.",
                                nameof blocks
                            )
                        )

                    z.Add(Dense.gemm true block false (Dense.gemm false block true vt), z)

                vt <- Dense.transpose (fst (Dense.qr z))

            let mutable r = Matrix<float>.Build.Dense(vt.RowCount, vt.RowCount)
            let mutable seen = 0L
            // ||A - A V V^T||_F^2, block by block: with the tail of A V's singular values it gives the error without the
            // cancellation of ||A||_F^2 - sum sigma_i^2 (which keeps only about 8 digits of a tiny error).
            let mutable outside = 0.0
            let mutable scratch: Matrix<float> option = None

            for block in blocks () do
                if block.ColumnCount <> d then
                    raise (
                        ArgumentException(
                            "Expected the second pass to give the same blocks as the first.",
                            nameof blocks
                        )
                    )

                let y = Dense.gemm false block true vt
                keep y
                r <- RowBlocks.stackR r y

                if measureError then
                    // One b x d buffer for every block of the same height.
                    let into =
                        match scratch with
                        | Some p when p.RowCount = block.RowCount -> p
                        | _ ->
                            let p = Matrix<float>.Build.Dense(block.RowCount, d)
                            scratch <- Some p
                            p

                    outside <- outside + RowBlocks.outsideSquared block y vt into

                seen <- seen + int64 block.RowCount

            if seen <> int64 n then
                raise (
                    ArgumentException(
                        $"Expected the second pass to give the first pass's {n} rows, but it gave {seen}.",
                        nameof blocks
                    )
                )

            let wk, s, right, tail = RowBlocks.finish rank r vt
            n, (if measureError then sqrt (outside + tail * tail) else nan), Some(wk, s, right)

    /// <summary>SCW(S, A) of a matrix given as row blocks, equal to Scw.approximate on the stacked matrix up to
    /// rounding (and the signs of singular vector pairs).</summary>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="sketch">S: the counter-based CountSketch of (seed, m), or a sketch with n columns; m &gt;= k.</param>
    /// <param name="blocks">A's rows in blocks (each nonempty, finite, with d columns), enumerated twice: once for
    /// S A, once for A V.</param>
    /// <returns>The approximation; Left (n x k') is the only n-sized thing held.</returns>
    /// <exception cref="System.ArgumentNullException">sketch or blocks is null.</exception>
    /// <exception cref="System.ArgumentException">there is no block; a block is empty, not finite or has another
    /// width; the second enumeration differs; the sketch's rows are fewer than k or its columns differ from n.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)].</exception>
    /// <remarks>Memory O(m d + b d + n r) for blocks of b rows, r &lt;= m; time as Scw.approximate plus a QR of
    /// (r + b) x r per block.</remarks>
    [<CompiledName("ApproximateRows")>]
    let approximateRows (rank: int) (sketch: BlockSketch) (blocks: seq<Matrix<float>>) =
        Guard.notNull (nameof blocks) blocks
        let ys = ResizeArray<Matrix<float>>()
        let n, _, result = twoPass false 0 rank sketch (fun () -> blocks) ys.Add

        match result with
        | None -> {
            Left = Matrix<float>.Build.Dense(n, 0)
            Right = Matrix<float>.Build.Dense(0, (Seq.head blocks).ColumnCount)
            SingularValues = [||]
          }
        | Some(wk, s, right) ->
            let y = Matrix<float>.Build.DenseOfMatrixArray(array2D [ for b in ys -> [ b ] ])

            {
                Left = Dense.gemm false y false wk
                Right = right
                SingularValues = s
            }

    /// <summary>approximateFile with q power iterations after the sketch, one more pass over the file each: V_0 spans
    /// the rows of S A, V_(i+1) = orth(A^T A V_i) accumulated block by block, and the result is [A V_q]_k V_q^T
    /// (Halko, Martinsson and Tropp 2011; Scw.approximateWithPower in memory, to whose error it is equal up to
    /// eps ||A||_F).</summary>
    /// <param name="powerIterations">q &gt;= 0; 0 is approximateFile.</param>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="sketch">As for approximateFile.</param>
    /// <param name="blockRows">Rows per block, &gt;= 1.</param>
    /// <param name="path">A's .npy file.</param>
    /// <param name="leftPath">Where the left factor is written.</param>
    /// <returns>Right, the singular values and the error.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">as for approximateFile.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">as for approximateFile, or powerIterations &lt; 0.</exception>
    /// <remarks>q + 2 passes over A, 4 n d m flops each for the power iterations; memory O(m d + blockRows d), as
    /// approximateFile. One pass per iteration (A^T (A V) summed over blocks, then a QR of the d x m sum) instead of
    /// in-memory subspace iteration's two: it resolves the directions above sqrt(eps) sigma_1 only, which changes a
    /// rank-k error by less than eps ||A||_F.</remarks>
    [<CompiledName("ApproximateFileWithPower")>]
    let approximateFileWithPower
        (powerIterations: int)
        (rank: int)
        (sketch: BlockSketch)
        (blockRows: int)
        (path: string)
        (leftPath: string)
        =
        Guard.positive (nameof blockRows) blockRows

        Guard.nonNegative (nameof powerIterations) powerIterations

        Guard.notNull (nameof path) path
        Guard.notNull (nameof leftPath) leftPath
        checkSketch rank sketch
        use reader = new Npy.RowBlockReader(path)
        let n, d = reader.Rows, reader.Columns
        checkShape rank sketch n d
        let spill = leftPath + ".av.tmp"

        // One matrix per block height (the last block may be shorter), refilled block after block: every pass consumes a
        // block before asking for the next, and a new b x d array per block (25 MB at 4096 x 768) kept the garbage
        // collector busy for nothing.
        let buffers = Collections.Generic.Dictionary<int, Matrix<float>>()

        let blocks () =
            seq {
                for first in 0..blockRows .. n - 1 do
                    let count = min blockRows (n - first)

                    let block =
                        match buffers.TryGetValue count with
                        | true, matrix -> matrix
                        | _ ->
                            let matrix = Matrix<float>.Build.Dense(count, d)
                            buffers[count] <- matrix
                            matrix

                    reader.ReadInto(first, count, block.AsColumnMajorArray())

                    match Guard.firstNonFinite block with
                    | Some(i, j, x) ->
                        raise (
                            ArgumentException(
                                $"Expected finite entries, but {path} has {x} at row {first + i}, column {j}.",
                                nameof path
                            )
                        )
                    | None -> yield block
            }

        try
            let mutable spilled: Npy.RowBlockWriter option = None

            let keep (y: Matrix<float>) =
                let writer =
                    match spilled with
                    | Some w -> w
                    | None ->
                        let w = new Npy.RowBlockWriter(spill, n, y.ColumnCount)
                        spilled <- Some w
                        w

                writer.Write y

            let _, error, result = twoPass true powerIterations rank sketch blocks keep
            spilled |> Option.iter (fun w -> (w :> IDisposable).Dispose())

            match result with
            | None ->
                // The zero approximation: an n x 0 left factor, a header without data.
                (new Npy.RowBlockWriter(leftPath, n, 0) :> IDisposable).Dispose()

                {
                    Rows = n
                    Right = Matrix<float>.Build.Dense(0, d)
                    SingularValues = [||]
                    Error = error
                }
            | Some(wk, s, right) ->
                (use av = new Npy.RowBlockReader(spill)
                 use left = new Npy.RowBlockWriter(leftPath, n, wk.ColumnCount)

                 for first in 0..blockRows .. n - 1 do
                     left.Write(Dense.gemm false (av.Read(first, min blockRows (n - first))) false wk))

                {
                    Rows = n
                    Right = right
                    SingularValues = s
                    Error = error
                }
        finally
            File.Delete spill

    /// <summary>SCW(S, A) of a 2-D .npy matrix larger than memory, read through a memory map in blocks of rows, in two
    /// passes; the left factor A Right^T (n x k') is written to a .npy file as it is formed.</summary>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="sketch">S: the counter-based CountSketch of (seed, m), or a sketch with n columns; m &gt;= k.</param>
    /// <param name="blockRows">Rows per block, &gt;= 1: memory is O(m d + blockRows d).</param>
    /// <param name="path">A's .npy file (any dtype the library reads, C or Fortran order; C order reads fastest).</param>
    /// <param name="leftPath">Where the left factor is written (float64, C order).</param>
    /// <returns>Right, the singular values and the error.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">A has a NaN or infinite entry (the message gives its row), or the
    /// sketch does not fit as for approximateRows.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)] or blockRows &lt; 1.</exception>
    /// <exception cref="System.IO.InvalidDataException">the file is not a valid 2-D .npy file.</exception>
    /// <remarks>A V is spilled to a temporary file next to leftPath (n r float64, r &lt;= m), then multiplied by W_k into
    /// the left factor, so A is read twice and never a third time. Equal to Scw.approximate up to rounding. The error
    /// is ||A - A V V^T||_F^2, summed over the blocks of the second pass, plus the tail of A V's singular values, so it
    /// has no cancellation; that costs b d r flops a block more than A V alone.</remarks>
    [<CompiledName("ApproximateFile")>]
    let approximateFile (rank: int) (sketch: BlockSketch) (blockRows: int) (path: string) (leftPath: string) =
        approximateFileWithPower 0 rank sketch blockRows path leftPath
