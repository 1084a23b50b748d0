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

    /// S[:, offset .. offset + b) * block for a block of b rows given as its transpose (d x b, the rows as a C-order file
    /// holds them), as apply.
    let applyTransposed (sketch: BlockSketch) (offset: int64) (transposed: Matrix<float>) =
        match sketch with
        | BlockSketch.Hashed(seed, rows) ->
            Sketch.applyTransposedUnchecked
                (Sketch.hashedCountSketchColumns seed rows offset transposed.ColumnCount)
                0
                transposed
        | BlockSketch.Given s -> Sketch.applyTransposedUnchecked s (int offset) transposed

    /// applyTransposed and the block's squared Frobenius norm, its entries checked: for a CountSketch (the hashed one,
    /// or a given one) on dense storage all from one pass over the block (RowMajorGemm.countSketch; the entries are
    /// searched only when the sum of squares is not finite), else apply and a checked norm apart. A NaN or infinity
    /// raises `nonFinite row column value`, with the row counted in A.
    let sketchTransposedChecked
        (nonFinite: int64 -> int -> float -> exn)
        (sketch: BlockSketch)
        (offset: int64)
        (transposed: Matrix<float>)
        =
        let check () =
            match Guard.firstNonFinite transposed with
            | Some(j, i, x) -> raise (nonFinite (offset + int64 i) j x)
            | None -> ()

        let squaredNorm () =
            let norm = Dense.twoNorm (Dense.storedValues transposed)
            norm * norm

        let countSketch =
            match sketch with
            | BlockSketch.Hashed(seed, rows) ->
                Sketch.hashedCountSketchColumns seed rows offset transposed.ColumnCount, 0
            | BlockSketch.Given s -> s, int offset

        match countSketch, transposed.AsColumnMajorArray() with
        | (CountSketch(m, hash, values), at), x when not (isNull x) ->
            let sketched, struct (top, squares) =
                Sketch.countSketchByRows m hash values at transposed

            let squares =
                if Dense.plainSquaresHold top squares then
                    squares
                else
                    check ()
                    squaredNorm ()

            sketched, squares
        | _ ->
            check ()
            applyTransposed sketch offset transposed, squaredNorm ()

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
            // R alone: forming Q of the (r + b) x r stack (dorgqr) doubled the cost, and nothing reads it.
            (Dense.rFactor (top.Stack y)).SubMatrix(0, r, 0, r)

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
