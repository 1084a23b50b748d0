namespace LowRank.Core

open System
open System.IO
open System.Threading
open MathNet.Numerics.LinearAlgebra

/// How far a streamed approximation of a file is: reported after every block of every pass over A.
type StreamingProgress = {
    /// The pass over A, from 1: 1 forms S A, 2 .. q + 1 are the power iterations, q + 2 forms A V.
    Pass: int
    /// The passes in all: q + 2, and one more when a nearly exact approximation's error is formed block by block.
    Passes: int
    /// Rows of A read in this pass so far.
    Rows: int
    /// Rows of A, n.
    TotalRows: int
}

/// <summary>SCW of a matrix streamed through memory: written to a file, its left factor needs no memory at all.</summary>
[<NoComparison; NoEquality>]
type StreamedApproximation = {
    /// n, the rows of A (and of the left factor written to the file).
    Rows: int
    /// k' x d, orthonormal rows: the approximation's row space, as LowRankApproximation.Right.
    Right: Matrix<float>
    /// The k' singular values, descending.
    SingularValues: float[]
    /// ||A - SCW(S, A)||_F, as sqrt(||A||_F^2 - sum_(i&lt;=k) sigma_i^2) from norms the passes already have; when that
    /// would keep fewer than 8 digits (a nearly exact approximation), from one more pass that forms each block's part
    /// outside V's span, so even a tiny error keeps its digits.
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

    /// A block of b rows of A as a pass sees it: the b x d block itself (column-major), or, when `transposed`, its
    /// transpose (d x b), the rows as a C-order file holds them (read without transposing; RowMajorGemm's kernels).
    let private heightOf (transposed: bool) (block: Matrix<float>) =
        if transposed then block.ColumnCount else block.RowCount

    let private widthOf (transposed: bool) (block: Matrix<float>) =
        if transposed then block.RowCount else block.ColumnCount

    /// The block's A_b V (b x r) for V given as V^T.
    let private timesOf (transposed: bool) (block: Matrix<float>) (vt: Matrix<float>) =
        if transposed then
            Dense.rowMajorTimes block vt
        else
            Dense.gemm false block true vt

    /// Power iterations, one pass each: V <- orth(A^T A V) = orth(sum_b A_b^T (A_b V)). In-memory subspace iteration
    /// orthonormalises A V between A and A^T (HMT Algorithm 4.4); here that would cost a second pass and n r numbers
    /// spilled per iteration, for directions below sqrt(eps) sigma_1 only, whose share of a rank-k error is below
    /// eps ||A||_F.
    let private powerPasses
        (transposed: bool)
        (powerIterations: int)
        (d: int)
        (blocks: unit -> seq<Matrix<float>>)
        (start: Matrix<float>)
        =
        let mutable vt = start

        for _ in 1..powerIterations do
            let z = Matrix<float>.Build.Dense(d, vt.RowCount)

            for block in blocks () do
                if widthOf transposed block <> d then
                    raise (
                        ArgumentException("Expected every pass to give the same blocks as the first.", nameof blocks)
                    )

                let product =
                    if transposed then
                        Dense.rowMajorNormalProduct block vt
                    else
                        Dense.normalProduct block vt

                z.Add(product, z)

            vt <- Dense.transpose (fst (Dense.qr z))

        vt

    /// S[:, offset ..) * block and ||block||_F^2 of a column-major block, its entries checked (naming "block").
    let private sketchColumnMajor (sketch: BlockSketch) (offset: int64) (block: Matrix<float>) =
        let norm = Dense.finiteFrobenius "block" block
        RowBlocks.apply sketch offset block, norm * norm

    /// The two passes over `blocks` (called twice; it must give the same rows both times, in the same order);
    /// `sketchBlock offset block` gives a block's part of S A and its squared norm, its entries checked. Returns
    /// n, ||A - SCW(S, A)||_F (when measureError, else NaN unless S A = 0) and, unless S A = 0, (W_k, sigma, Right);
    /// `keep` receives each block's A V (b x r) in pass two. The error comes from norms, or from a third pass when
    /// those would cancel.
    let private twoPass
        (transposed: bool)
        (measureError: bool)
        (powerIterations: int)
        (rank: int)
        (sketch: BlockSketch)
        (sketchBlock: int64 -> Matrix<float> -> Matrix<float> * float)
        (blocks: unit -> seq<Matrix<float>>)
        (keep: Matrix<float> -> unit)
        (replay: unit -> seq<Matrix<float>>)
        =
        checkSketch rank sketch
        let m = RowBlocks.sketchRows sketch
        let mutable sa: Matrix<float> option = None
        let mutable n = 0L
        let mutable squares = 0.0

        for block in blocks () do
            let width = widthOf transposed block

            let sum =
                match sa with
                | Some sum when width <> sum.ColumnCount ->
                    raise (
                        ArgumentException(
                            $"Expected every block to have {sum.ColumnCount} columns, but the block at row {n} is {Guard.shape block}.",
                            nameof blocks
                        )
                    )
                | Some sum -> sum
                | None ->
                    let sum = Matrix<float>.Build.Dense(m, width)
                    sa <- Some sum
                    sum

            (match sketch with
             | BlockSketch.Given s when int64 (Sketch.columns s) < n + int64 (heightOf transposed block) ->
                 raise (
                     ArgumentException(
                         $"Expected a sketch with one column per row of the matrix, but the rows exceed its {Sketch.columns s} columns.",
                         nameof sketch
                     )
                 )
             | _ -> ())

            let sketched, blockSquares = sketchBlock n block
            sum.Add(sketched, sum)
            squares <- squares + blockSquares
            n <- n + int64 (heightOf transposed block)

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
            let vt = powerPasses transposed powerIterations d blocks vt
            let gram = Matrix<float>.Build.Dense(vt.RowCount, vt.RowCount)
            let mutable seen = 0L

            for block in blocks () do
                if widthOf transposed block <> d then
                    raise (
                        ArgumentException(
                            "Expected the second pass to give the same blocks as the first.",
                            nameof blocks
                        )
                    )

                let y = timesOf transposed block vt
                keep y
                gram.Add(Dense.gemm true y false y, gram)
                seen <- seen + int64 y.RowCount

            if seen <> int64 n then
                raise (
                    ArgumentException(
                        $"Expected the second pass to give the first pass's {n} rows, but it gave {seen}.",
                        nameof blocks
                    )
                )

            // A V's R factor (A V = Q R), exactly: the TSQR of the kept blocks of A V, read again.
            let exact () =
                replay ()
                |> Seq.fold RowBlocks.stackR (Matrix<float>.Build.Dense(vt.RowCount, vt.RowCount))

            // Or from the Gram matrix (A V)^T (A V) = W Sigma^2 W^T summed block by block: R = Sigma W^T, when A V is
            // well conditioned (every eigenvalue above 1e-8 of the largest, so each sigma_i is within a relative
            // eps cond(A V)^2 <= 2.2e-8); a (b + r) x r QR per block cost as much as the block's product.
            let fromGram =
                RowSpace.wellConditionedGram gram
                |> Option.map (fun svd ->
                    Dense.multiply (Matrix<float>.Build.DiagonalOfDiagonalArray(Array.map sqrt svd.S)) svd.Vt)

            let wk, s, right, tail =
                RowBlocks.finish rank (fromGram |> Option.defaultWith exact) vt

            let error () =
                // ||A - [A V]_k V^T||_F^2 = ||A||_F^2 - sum_(i<=k) sigma_i^2, from norms the passes already have. When
                // that keeps fewer than 8 digits (a nearly exact approximation) one more pass forms the part of each block
                // outside V's span, which with the tail of A V's singular values has no cancellation.
                match Scw.residualOfNorms (sqrt squares) (Dense.twoNorm s) with
                | Some error -> error
                | None ->
                    let mutable outside = 0.0
                    let mutable scratch: Matrix<float> option = None

                    for block in blocks () do
                        // A rare pass (a nearly exact approximation): a transposed block is transposed back here.
                        let block = if transposed then Dense.transpose block else block

                        // One b x d buffer for every block of the same height.
                        let into =
                            match scratch with
                            | Some p when p.RowCount = block.RowCount -> p
                            | _ ->
                                let p = Matrix<float>.Build.Dense(block.RowCount, d)
                                scratch <- Some p
                                p

                        outside <-
                            outside
                            + RowBlocks.outsideSquared block (Dense.gemm false block true vt) vt into

                    // The tail of A V's singular values beyond k, exactly (a Gram matrix has it to eps sigma_1^2).
                    let tail =
                        match fromGram with
                        | Some _ ->
                            let _, _, _, tail = RowBlocks.finish rank (exact ()) vt
                            tail
                        | None -> tail

                    sqrt (outside + tail * tail)

            n, (if measureError then error () else nan), Some(wk, s, right)

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

        let n, _, result =
            twoPass false false 0 rank sketch (sketchColumnMajor sketch) (fun () -> blocks) ys.Add (fun () -> ys)

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
    /// <param name="progress">Called after every block of every pass over A (`ignore` for none).</param>
    /// <param name="token">Checked before every block: a cancelled token stops within one block, before the left
    /// factor's file is created.</param>
    /// <param name="path">A's .npy file.</param>
    /// <param name="leftPath">Where the left factor is written.</param>
    /// <returns>Right, the singular values and the error.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">as for approximateFile.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">as for approximateFile, or powerIterations &lt; 0.</exception>
    /// <exception cref="System.OperationCanceledException">token was cancelled.</exception>
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
        (progress: StreamingProgress -> unit)
        (token: CancellationToken)
        (path: string)
        (leftPath: string)
        =
        Guard.positive (nameof blockRows) blockRows
        Guard.notNull (nameof progress) progress

        Guard.nonNegative (nameof powerIterations) powerIterations

        Guard.notNull (nameof path) path
        Guard.notNull (nameof leftPath) leftPath
        checkSketch rank sketch
        use reader = new Npy.RowBlockReader(path)
        let n, d = reader.Rows, reader.Columns
        checkShape rank sketch n d
        let spill = leftPath + ".av.tmp"
        // A C-order file's blocks are read as they lie, as their transposes (no transposition; the row-major kernels);
        // a Fortran-order file's into column-major blocks.
        let byRows = reader.ByRows

        let nonFinite (row: int64) (column: int) (x: float) : exn =
            ArgumentException(
                $"Expected finite entries, but {path} has {x} at row {row}, column {column}.",
                nameof path
            )

        // Two matrices per block height (the last block may be shorter), filled in turn: while a pass works on one block
        // the next is read and checked on the thread pool, so reading overlaps the products. Every pass consumes a block
        // before asking for the next, so the one being refilled is never in use; a new b x d array per block (25 MB at
        // 4096 x 768) kept the garbage collector busy for nothing.
        let buffers = Collections.Generic.Dictionary<struct (int * int), Matrix<float>>()

        // The file's entries are checked in the first pass only (naming the row of a NaN or infinity); later passes
        // read the same bytes, and each check was a further read of every block (0.03 s a pass on 491 MB).
        let load (check: bool) (first: int) (slot: int) =
            let count = min blockRows (n - first)

            let block =
                match buffers.TryGetValue(struct (count, slot)) with
                | true, matrix -> matrix
                | _ ->
                    let matrix =
                        if byRows then
                            Matrix<float>.Build.Dense(d, count)
                        else
                            Matrix<float>.Build.Dense(count, d)

                    buffers[struct (count, slot)] <- matrix
                    matrix

            Tasks.Task.Run(fun () ->
                if byRows then
                    reader.ReadTransposedInto(first, count, block.AsColumnMajorArray())
                else
                    reader.ReadInto(first, count, block.AsColumnMajorArray())

                match
                    (if check && not byRows then
                         Guard.firstNonFinite block
                     else
                         None)
                with
                | Some(i, j, x) -> raise (nonFinite (int64 (first + i)) j x)
                | None -> block)

        // Each enumeration of `blocks` is one pass over A.
        let pass = ref 0
        let starts = [| 0..blockRows .. n - 1 |]

        let blocks () =
            pass.Value <- pass.Value + 1
            let current = pass.Value

            seq {
                let load = load (current = 1)
                let pending = ref (if starts.Length > 0 then Some(load starts[0] 0) else None)

                try
                    for index in 0 .. starts.Length - 1 do
                        token.ThrowIfCancellationRequested()
                        let block = pending.Value.Value.GetAwaiter().GetResult()

                        pending.Value <-
                            if index + 1 < starts.Length then
                                Some(load starts[index + 1] ((index + 1) % 2))
                            else
                                None

                        yield block

                        progress {
                            Pass = current
                            Passes = max (powerIterations + 2) current
                            Rows = starts[index] + heightOf byRows block
                            TotalRows = n
                        }
                finally
                    // A pass left early (cancelled, or an error downstream) waits for its read in flight, which would
                    // otherwise run on against a closed file.
                    match pending.Value with
                    | Some task -> (task :> Tasks.Task).ContinueWith(fun (_: Tasks.Task) -> ()).Wait()
                    | None -> ()
            }

        try
            // A V (n x r, r <= m) is kept in memory up to 8M entries (64 MB) and spilled to a file beyond, so memory
            // stays O(m d + blockRows d) for any n.
            let inMemory = int64 n * int64 (RowBlocks.sketchRows sketch) <= (8L <<< 20)
            let kept = ResizeArray<Matrix<float>>()
            let mutable spilled: Npy.RowBlockWriter option = None

            let keep (y: Matrix<float>) =
                if inMemory then
                    kept.Add y
                else
                    let writer =
                        match spilled with
                        | Some w -> w
                        | None ->
                            let w = new Npy.RowBlockWriter(spill, n, y.ColumnCount)
                            spilled <- Some w
                            w

                    writer.Write y

            let closeSpill () =
                spilled |> Option.iter (fun w -> (w :> IDisposable).Dispose())
                spilled <- None

            // The kept blocks of A V again, in blockRows rows at a time.
            let replay () =
                if inMemory then
                    kept :> seq<_>
                else
                    closeSpill ()

                    seq {
                        use av = new Npy.RowBlockReader(spill)

                        for first in 0..blockRows .. n - 1 do
                            yield av.Read(first, min blockRows (n - first))
                    }

            // By rows, the entries are checked in the sketch's pass (the load checks none), and named as the load would.
            let sketchBlock =
                if byRows then
                    RowBlocks.sketchTransposedChecked (fun row column x -> nonFinite row column x) sketch
                else
                    sketchColumnMajor sketch

            let _, error, result =
                twoPass byRows true powerIterations rank sketch sketchBlock blocks keep replay

            closeSpill ()

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
                (use left = new Npy.RowBlockWriter(leftPath, n, wk.ColumnCount)

                 for y in replay () do
                     left.Write(Dense.gemm false y false wk))

                {
                    Rows = n
                    Right = right
                    SingularValues = s
                    Error = error
                }
        finally
            File.Delete spill

    /// <summary>SCW(S, A) of a 2-D .npy matrix larger than memory, read in blocks of rows, in two
    /// passes; the left factor A Right^T (n x k') is written to a .npy file as it is formed.</summary>
    /// <param name="rank">k, with 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="sketch">S: the counter-based CountSketch of (seed, m), or a sketch with n columns; m &gt;= k.</param>
    /// <param name="blockRows">Rows per block, &gt;= 1: memory is O(m d + blockRows d).</param>
    /// <param name="progress">Called after every block of both passes (`ignore` for none).</param>
    /// <param name="token">Checked before every block: a cancelled token stops within one block.</param>
    /// <param name="path">A's .npy file (any dtype the library reads, C or Fortran order; C order reads fastest).</param>
    /// <param name="leftPath">Where the left factor is written (float64, C order).</param>
    /// <returns>Right, the singular values and the error.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">A has a NaN or infinite entry (the message gives its row), or the
    /// sketch does not fit as for approximateRows.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)] or blockRows &lt; 1.</exception>
    /// <exception cref="System.IO.InvalidDataException">the file is not a valid 2-D .npy file.</exception>
    /// <exception cref="System.OperationCanceledException">token was cancelled.</exception>
    /// <remarks>A V (n r float64, r &lt;= m) is kept in memory up to 64 MB and spilled beyond to a temporary file next to
    /// leftPath, then multiplied by W_k into the left factor, so A is read twice. A C-order file's blocks are used as
    /// they lie (their transposes, RowMajorGemm's kernels; the first pass sketches, sums squares and checks each block in
    /// one pass over it); a Fortran-order file's are read into column-major blocks. A V's R factor comes from its Gram
    /// matrix while A V is well conditioned, else from a tall-skinny QR of the kept blocks. Equal to Scw.approximate up
    /// to rounding. The error is
    /// sqrt(||A||_F^2 - sum_(i&lt;=k) sigma_i^2) from the passes' norms; only when that keeps fewer than 8 digits (error^2
    /// below 1.5e-8 ||A||_F^2) is A read a third time, to sum ||A_b - A_b V V^T||_F^2 over blocks plus the tail of A V's
    /// singular values, which has no cancellation.</remarks>
    [<CompiledName("ApproximateFile")>]
    let approximateFile
        (rank: int)
        (sketch: BlockSketch)
        (blockRows: int)
        (progress: StreamingProgress -> unit)
        (token: CancellationToken)
        (path: string)
        (leftPath: string)
        =
        approximateFileWithPower 0 rank sketch blockRows progress token path leftPath
