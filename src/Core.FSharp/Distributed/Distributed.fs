namespace LowRank.Core

open System
open System.Text
open MathNet.Numerics.LinearAlgebra
open LowRank.Core.DistributedShared

/// <summary>One rank's part of SCW(S, A) for a matrix A whose rows are spread over ranks (rank 0 holds the first rows,
/// rank 1 the next, and so on): this rank's rows of the left factor, and the right factor every rank shares.</summary>
[<NoComparison; NoEquality>]
type DistributedApproximation = {
    /// This rank's rows of the left factor A Right^T (n_i x k').
    Left: Matrix<float>
    /// k' x d, orthonormal rows, identical on every rank.
    Right: Matrix<float>
    /// The k' singular values, descending, identical on every rank.
    SingularValues: float[]
    /// The index in A of this rank's first row.
    RowOffset: int64
    /// n, A's rows over all ranks.
    TotalRows: int64
    /// ||A - SCW(S, A)||_F over all ranks, identical on every rank, as accurate as Scw.error: from the norms, or from
    /// the residual when the error is too small for ||A||_F^2 - sum sigma_i^2 to keep 8 digits.
    Error: float
}

/// <summary>svd_w (Woodruff and Yasuda 2024, Algorithm 1) of a row-partitioned W o A, one rank's part.</summary>
[<NoComparison; NoEquality>]
type DistributedWeightedApproximation = {
    /// This rank's rows of A~ = W^(o+) o [W o A]_t, with [W o A]_t from a sketch (n_i x d).
    Local: Matrix<float>
    /// ||W o (A - A~)||_F over all ranks, identical on every rank.
    Loss: float
    /// The index in A of this rank's first row.
    RowOffset: int64
}

/// <summary>The Theorem 3.1 protocol of Woodruff and Yasuda (2024) run across ranks: each rank holds a block of A's
/// columns and sends its message to rank 0, which knows W and reconstructs A~ block by block.</summary>
[<NoComparison; NoEquality>]
type DistributedProtocolRun = {
    /// On rank 0, the n x d reconstruction (the blocks side by side in rank order); None on the other ranks.
    Reconstruction: Matrix<float> option
    /// Every rank's message size in bits (8 times its bytes), in rank order.
    MessageBits: int64[]
    /// Every rank's Theorem 3.1 bound (Protocol.boundInBits for its block), in rank order.
    BoundBits: float[]
}

/// <summary>LowRank's algorithms on data spread over ranks, through any ICommunicator (MPI, threads, one process). Every
/// rank calls the same function with its own part; argument errors found on any rank are raised on every rank (with
/// the rank named), so that no rank is left waiting in a collective.</summary>
[<RequireQualifiedAccess>]
module Distributed =

    /// <summary>S A on every rank for A's rows spread over ranks: each rank sketches its own rows with S's columns at
    /// its global row offset, and one Allreduce sums the parts.</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="sketch">S: the counter-based CountSketch of (seed, m), built from global row indices on every rank
    /// alike, or a sketch with n columns given on every rank.</param>
    /// <param name="part">This rank's rows of A (n_i x d, finite; n_i may be 0).</param>
    /// <returns>S A (m x d), the same on every rank.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">on any rank: a part is not finite or has no column, the ranks' widths
    /// differ, or a given sketch's columns differ from n.</exception>
    /// <remarks>Communication: m d values summed (one Allreduce), plus two rounds of 8 bytes a rank for the offsets and
    /// widths. Local work O(nnz(part) + m d) for a CountSketch.</remarks>
    [<CompiledName("Sketch")>]
    let sketch (communicator: ICommunicator) (sketch: BlockSketch) (part: Matrix<float>) : Matrix<float> =
        let sa, _, _ = sketchWithOffsets communicator sketch part
        sa

    /// SCW of the rows spread over ranks, after the sketch: shared by approximate and svdW.
    let private scwAfterSketch
        (communicator: ICommunicator)
        (powerIterations: int)
        (rank: int)
        (sa: Matrix<float>)
        (part: Matrix<float>)
        (offset: int64)
        (total: int64)
        =
        let d = part.ColumnCount

        // V^T from rank 0's SVD of S A, broadcast, so that every rank projects onto the same basis bit for bit even on
        // machines whose LAPACK rounds differently.
        let vt =
            let mine =
                if communicator.Rank = 0 then
                    match RowBlocks.rowSpace sa with
                    | Some vt -> vt.ToColumnMajorArray()
                    | None -> [||]
                else
                    [||]

            let values = Communicator.broadcastValues communicator 0 mine
            Matrix<float>.Build.Dense(values.Length / d, d, values)

        // Power iterations as the streamed ones: V <- orth(A^T A V), A^T A V summed over the ranks (one Allreduce of
        // d r values), orthonormalised on rank 0 and broadcast, so every rank keeps the same basis bit for bit.
        let vt =
            let mutable vt = vt

            for _ in 1 .. (if vt.RowCount = 0 then 0 else powerIterations) do
                let local = Dense.normalProduct part vt

                let z =
                    Matrix<float>.Build.Dense(d, vt.RowCount, communicator.AllreduceSum(local.ToColumnMajorArray()))

                let mine =
                    if communicator.Rank = 0 then
                        (Dense.transpose (fst (Dense.qr z))).ToColumnMajorArray()
                    else
                        [||]

                let values = Communicator.broadcastValues communicator 0 mine
                vt <- Matrix<float>.Build.Dense(values.Length / d, d, values)

            vt

        let r = vt.RowCount

        // Every rank's ||part||_F, gathered with the R factors below (or alone): the error comes from the norms unless it
        // is too small for that subtraction (Scw.residualOfNorms), and twoNorm of the ranks' norms cannot overflow.
        let norm = Dense.twoNorm (Dense.storedValues part)

        if r = 0 then
            {
                Left = Matrix<float>.Build.Dense(part.RowCount, 0)
                Right = Matrix<float>.Build.Dense(0, d)
                SingularValues = [||]
                RowOffset = offset
                TotalRows = total
                Error =
                    Communicator.allgatherValues communicator [| norm |]
                    |> Array.concat
                    |> Dense.twoNorm
            }
        else
            // A V's rows stay where they are; a tall-skinny QR combines the ranks' r x r R factors (one Allgather).
            let y = Dense.gemm false part true vt
            let local = RowBlocks.stackR (Matrix<float>.Build.Dense(r, r)) y

            let gathered =
                Communicator.allgatherValues communicator (Array.append (local.ToColumnMajorArray()) [| norm |])

            // From rank 0, broadcast (2 + k + r k values): the error (NaN when it must be formed from the residual),
            // ||A V - [A V]_k||_F, sigma and W_k.
            let packed =
                if communicator.Rank = 0 then
                    let combined =
                        gathered
                        |> Array.map (fun values -> Matrix<float>.Build.Dense(r, r, values[.. r * r - 1]))
                        |> Array.fold RowBlocks.stackR (Matrix<float>.Build.Dense(r, r))

                    let wk, s, _, tail = RowBlocks.finish rank combined vt
                    let norms = gathered |> Array.map (fun values -> values[r * r])

                    let error =
                        Scw.residualOfNorms (Dense.twoNorm norms) (Dense.twoNorm s)
                        |> Option.defaultValue nan

                    Array.concat [ [| error; tail |]; s; wk.ToColumnMajorArray() ]
                else
                    [||]

            let packed = Communicator.broadcastValues communicator 0 packed
            let kept = min rank r
            let s = packed[2 .. kept + 1]
            let wk = Matrix<float>.Build.Dense(r, kept, packed[kept + 2 ..])

            // A tiny error: ||A - [A V]_k V^T||_F^2 = ||A - A V V^T||_F^2 + ||A V - [A V]_k||_F^2, the first from every
            // rank's residual outside V's span (one more Allgather, on every rank alike).
            let error =
                if Double.IsNaN packed[0] then
                    let outside =
                        sqrt (RowBlocks.outsideSquared part y vt (Matrix<float>.Build.Dense(part.RowCount, d)))

                    Communicator.allgatherValues communicator [| outside |]
                    |> Array.concat
                    |> Array.append [| packed[1] |]
                    |> Dense.twoNorm
                else
                    packed[0]

            {
                Left = Dense.gemm false y false wk
                Right = Dense.gemm true wk false vt
                SingularValues = s
                RowOffset = offset
                TotalRows = total
                Error = error
            }

    /// <summary>Distributed SCW (Distributed.approximate) with q power iterations after the sketch, as
    /// Streaming.approximateFileWithPower:
    /// V_(i+1) = orth(A^T A V_i), A^T A V summed over the ranks; the result is [A V_q]_k V_q^T, with the error of
    /// Scw.approximateWithPower in memory up to eps ||A||_F.</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="powerIterations">q &gt;= 0 (the same on every rank); 0 is Distributed.approximate.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="sketch">S, as for Distributed.approximate.</param>
    /// <param name="part">This rank's rows of A.</param>
    /// <returns>This rank's part of the approximation, as Distributed.approximate.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">as for Distributed.approximate.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)], or powerIterations &lt; 0
    /// (on every rank).</exception>
    /// <remarks>Per iteration and rank: O(n_i d r) flops, an Allreduce of d r values and a broadcast of d r values
    /// (rank 0's QR of the d x r sum), independent of n.</remarks>
    [<CompiledName("ApproximateWithPower")>]
    let approximateWithPower
        (communicator: ICommunicator)
        (powerIterations: int)
        (rank: int)
        (sketch: BlockSketch)
        (part: Matrix<float>)
        =
        checkCommunicator communicator
        agree communicator (fun () -> Guard.nonNegative (nameof powerIterations) powerIterations)
        agree communicator (fun () -> RowBlocks.checkRows rank sketch)
        let sa, offset, total = sketchWithOffsets communicator sketch part

        if int64 rank > min total (int64 part.ColumnCount) then
            raise (
                ArgumentOutOfRangeException(
                    nameof rank,
                    rank,
                    $"Expected 1 <= rank <= min(n, d) = {min total (int64 part.ColumnCount)} for the {total}x{part.ColumnCount} matrix over all ranks, but rank = {rank}."
                )
            )

        scwAfterSketch communicator powerIterations rank sa part offset total

    /// <summary>SCW(S, A) = [A V]_k V^T for A's rows spread over ranks (Algorithm 1 of Indyk, Vakilian and Yuan, NeurIPS
    /// 2019): S A by one Allreduce, V from rank 0's SVD of S A (broadcast), A V on each rank's own rows, [A V]_k from a
    /// tall-skinny QR (the ranks' r x r R factors gathered and combined). The left factor stays distributed.</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d), n the rows over all ranks.</param>
    /// <param name="sketch">S, as for Distributed.sketch, with m &gt;= k rows.</param>
    /// <param name="part">This rank's rows of A (n_i x d, finite; n_i may be 0). Rank i's rows follow rank i - 1's.</param>
    /// <returns>This rank's part; stacking the ranks' Left in rank order gives Scw.approximate's Left for the whole A,
    /// up to rounding and the signs of singular vector pairs (Left Right agrees to rounding).</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">on any rank: as for Distributed.sketch, or the sketch has fewer than
    /// k rows.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">rank is outside [1, min(n, d)] (on every rank).</exception>
    /// <remarks>Communication per rank: m d values (Allreduce), r d (broadcast of V^T), r^2 + 1 (Allgather of the R
    /// factors and ||part||_F), 2 + k + r k (broadcast of the error, the tail, sigma and W_k), with r &lt;= m:
    /// independent of n. When the error is below about 1.2e-4 ||A||_F (where ||A||_F^2 - sum sigma_i^2 would keep
    /// fewer than 8 digits) each rank also forms its residual outside V's span, O(n_i d r), and sends 1 more value.
    /// Local work: O(nnz(part) r + n_i r^2) and, on rank 0, the SVD of S A, O(d m^2), and a QR of p r x r.</remarks>
    [<CompiledName("Approximate")>]
    let approximate (communicator: ICommunicator) (rank: int) (sketch: BlockSketch) (part: Matrix<float>) =
        approximateWithPower communicator 0 rank sketch part

    /// <summary>Every rank's part stacked in rank order, on every rank: for results small enough to hold in one place
    /// (tests, and writing a file from rank 0).</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="part">This rank's rows (n_i x d; n_i may be 0; d the same on every rank).</param>
    /// <returns>The (sum n_i) x d matrix.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">the ranks' column counts differ.</exception>
    [<CompiledName("GatherRows")>]
    let gatherRows (communicator: ICommunicator) (part: Matrix<float>) =
        checkCommunicator communicator
        agree communicator (fun () -> Guard.notNull (nameof part) part)
        agree communicator (fun () -> checkWidths communicator (nameof part) part)
        let d = part.ColumnCount
        let rows = Communicator.allgatherInt64 communicator (int64 part.RowCount)

        let parts =
            Communicator.allgatherValues communicator (part.ToColumnMajorArray())
            |> Array.mapi (fun i values -> Matrix<float>.Build.Dense(int rows[i], d, values))
            |> Array.filter (fun p -> p.RowCount > 0)

        if parts.Length = 0 || d = 0 then
            Matrix<float>.Build.Dense(int (Array.sum rows), d)
        else
            Matrix<float>.Build.DenseOfMatrixArray(array2D [ for p in parts -> [ p ] ])

    /// <summary>svd_w (Woodruff and Yasuda 2024, Algorithm 1) for rows of W and A spread over ranks: A~ = W^(o+) o
    /// [W o A]_t with [W o A]_t = SCW(S, W o A) computed as Distributed.approximate does (a randomized range finder on
    /// the sketch S: with m comfortably above t rows it is within a small factor of the exact truncated SVD).</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="totalRank">t = r k, 1 &lt;= t &lt;= min(n, d).</param>
    /// <param name="sketch">S with m &gt;= t rows (m = 2 t or more is advisable), as for Distributed.sketch.</param>
    /// <param name="weights">This rank's rows of W (n_i x d, finite).</param>
    /// <param name="part">This rank's rows of A (n_i x d, finite).</param>
    /// <returns>This rank's rows of A~ and the weighted loss over all ranks.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">on any rank: as for Distributed.approximate, or W's part has another
    /// shape than A's.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">totalRank is outside [1, min(n, d)].</exception>
    /// <remarks>Communication as Distributed.approximate plus one value for the loss; the n_i x d result is local.</remarks>
    [<CompiledName("SvdW")>]
    let svdW
        (communicator: ICommunicator)
        (totalRank: int)
        (sketch: BlockSketch)
        (weights: Matrix<float>)
        (part: Matrix<float>)
        =
        checkCommunicator communicator

        agree communicator (fun () ->
            checkPart (nameof weights) weights
            checkPart (nameof part) part

            if weights.RowCount <> part.RowCount || weights.ColumnCount <> part.ColumnCount then
                raise (
                    ArgumentException(
                        $"Expected this rank's weights to have the shape of its part ({Guard.shape part}), but they are {Guard.shape weights}.",
                        nameof weights
                    )
                ))

        let product = weights.PointwiseMultiply part
        let one = approximate communicator totalRank sketch product

        let local =
            if one.SingularValues.Length = 0 then
                Matrix<float>.Build.Dense(part.RowCount, part.ColumnCount)
            else
                Dense.divideByWeights weights (Dense.multiply one.Left one.Right)

        let residual =
            Dense.twoNorm (Dense.storedValues (weights.PointwiseMultiply(part - local)))

        let squares = communicator.AllreduceSum [| residual * residual |]

        {
            Local = local
            Loss = sqrt squares[0]
            RowOffset = one.RowOffset
        }

    /// <summary>The protocol of Theorem 3.1 (Woodruff and Yasuda 2024) with A's columns spread over ranks: every rank is
    /// an Alice for its block of columns and sends Protocol.send's message (its bytes, over the communicator) to rank 0,
    /// the Bob who knows W and reconstructs each block with Protocol.receive.</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="columns">This rank's c, with r k &lt;= c &lt;= d_i (ranks may choose differently).</param>
    /// <param name="rank">k.</param>
    /// <param name="weights">W (n x d), the whole of it, known to every rank.</param>
    /// <param name="part">This rank's columns of A (n x d_i, d_i &gt;= 1); rank i's columns follow rank i - 1's.</param>
    /// <returns>On rank 0 the reconstruction; on every rank each rank's message size and its bound.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">on any rank: the parts' columns do not add up to W's, a part's rows
    /// differ from W's, or Protocol.send rejects a rank's arguments.</exception>
    /// <remarks>Communication: each rank's message (what the theorem counts) in one Allgather, plus 8 bytes a rank for
    /// the column offsets and the checks.</remarks>
    [<CompiledName("Protocol")>]
    let protocol (communicator: ICommunicator) (columns: int) (rank: int) (weights: Weights) (part: Matrix<float>) =
        checkCommunicator communicator

        agree communicator (fun () ->
            Guard.notNull (nameof weights) weights
            Guard.finiteMatrix (nameof part) part)

        let widths = Communicator.allgatherInt64 communicator (int64 part.ColumnCount)
        let offset = int (Array.sum widths[.. communicator.Rank - 1])
        let w = Weights.dense weights

        agree communicator (fun () ->
            if Array.sum widths <> int64 w.ColumnCount || part.RowCount <> w.RowCount then
                raise (
                    ArgumentException(
                        $"Expected the ranks' parts to split W's {Guard.shape w} by columns, but this rank's part is {Guard.shape part} and the widths add up to {Array.sum widths}.",
                        nameof part
                    )
                ))

        let block = Weights.ofMatrix (w.SubMatrix(0, w.RowCount, offset, part.ColumnCount))
        let mutable message = None
        agree communicator (fun () -> message <- Some(Protocol.send columns rank block part))
        let message = message.Value
        let bytes = communicator.Allgather(Protocol.toBytes message)

        // s: the most nonzeros of a column of this rank's A.
        let nonzeros =
            Seq.init part.ColumnCount (fun j -> part.Column(j) |> Seq.sumBy (fun x -> if x <> 0.0 then 1 else 0))
            |> Seq.max

        let bound =
            Protocol.boundInBits nonzeros (Weights.rank block * rank) columns part.RowCount part.ColumnCount

        let bounds =
            Communicator.allgatherValues communicator [| bound |]
            |> Array.map Array.exactlyOne

        let reconstruction =
            if communicator.Rank = 0 then
                let blocks =
                    bytes
                    |> Array.mapi (fun i b ->
                        let start = int (Array.sum widths[.. i - 1])
                        let wi = Weights.ofMatrix (w.SubMatrix(0, w.RowCount, start, int widths[i]))
                        Protocol.receive wi (Protocol.ofBytes b))

                Some(Matrix<float>.Build.DenseOfMatrixArray(array2D [ blocks ]))
            else
                None

        {
            Reconstruction = reconstruction
            MessageBits = bytes |> Array.map (fun b -> 8L * int64 b.Length)
            BoundBits = bounds
        }

    /// <summary>Data-parallel training (Indyk, Vakilian and Yuan, NeurIPS 2019, Algorithm 1): each rank holds part of the
    /// training set, every rank draws the same global batch, computes the loss and gradient of the batch's matrices it
    /// holds, and one Allreduce a step sums them; every rank then takes the same step. With the same options the result
    /// equals Training.train on all the matrices (in rank order) up to rounding.</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="options">As for Training.train, the same on every rank. Positions = Greedy is not supported
    /// distributed (the greedy search reads every matrix). Rank 0 writes CheckpointPath; every rank reads ResumeFrom (a
    /// shared file system), and a checkpoint resumes on any number of ranks or on one process.</param>
    /// <param name="progress">Called after every step on every rank (print from rank 0 only).</param>
    /// <param name="cancellation">Any rank's cancellation stops every rank after the same step.</param>
    /// <param name="part">This rank's training matrices (possibly none), finite, all of one shape on every rank; rank i's
    /// follow rank i - 1's in the global order.</param>
    /// <returns>The same result on every rank.</returns>
    /// <exception cref="System.ArgumentNullException">an argument is null.</exception>
    /// <exception cref="System.ArgumentException">on any rank: a matrix is not finite or has another shape, no rank has a
    /// matrix, or an unsupported option is set.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">an option is out of range (as for Training.train).</exception>
    /// <remarks>Communication per step: the n s trained values' gradient plus 2 numbers (one Allreduce) and 1 number to
    /// agree on cancellation; per validation, 1 number; once, 2 numbers per matrix (scales and norms) and, for the
    /// Principal start, 5 sums of n (m + 10) numbers. Time per step divides by the ranks when the batch spreads evenly.</remarks>
    [<CompiledName("Train")>]
    let train
        (communicator: ICommunicator)
        (options: TrainingOptions)
        (progress: TrainingProgress -> unit)
        (cancellation: Threading.CancellationToken)
        (part: seq<Matrix<float>>)
        =
        DistributedTraining.train communicator options progress cancellation part
