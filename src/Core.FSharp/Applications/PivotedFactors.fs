namespace LowRank.Core

open System
open MathNet.Numerics.LinearAlgebra

/// A rank-r matrix A~ (n x d) stored as r of its own columns and the coefficients that give the others:
/// A~[:, P] = B and A~[:, Q] = B C, in r (n + d - r) numbers instead of the r (n + d) of Left Right. Any rank-r matrix
/// has this form (its column space is spanned by r of its columns), so it is the same approximation in fewer numbers:
/// the pivoting factorization of Zhao et al., "PIFA: Pivoting Factorization for Low-Rank Compression" (ICML 2025),
/// section 3. A layer y = x A~ computes y_P = x B and y_Q = y_P C: r (n + d - r) multiplications per input row instead of
/// r (n + d).
[<NoComparison; NoEquality>]
type PivotedFactors = {
    /// B = A~[:, P] (n x r).
    Columns: Matrix<float>
    /// C (r x (d - r)) with A~[:, Q] = B C; its entries are at most 1 + 1e-2 in magnitude (a dominant pivot set), so
    /// forming B C in single precision loses nothing to cancellation.
    Coefficients: Matrix<float>
    /// P: the r pivot columns, in the order of B's columns.
    Pivots: int[]
    /// Q: the d - r other columns, in the order of C's columns.
    Others: int[]
} with

    /// r.
    member this.Rank = this.Pivots.Length

    /// Numbers stored: n r + r (d - r) = r (n + d - r); the index arrays P and Q (d integers) come on top.
    member this.Parameters =
        int64 this.Columns.RowCount * int64 this.Rank
        + int64 this.Rank * int64 this.Others.Length

    /// The dense n x d matrix A~, O(n d r).
    member this.ToMatrix() : Matrix<float> =
        let n = this.Columns.RowCount
        let a = Matrix<float>.Build.Dense(n, this.Pivots.Length + this.Others.Length)

        this.Pivots |> Array.iteri (fun c j -> a.SetColumn(j, this.Columns.Column c))

        if this.Others.Length > 0 then
            let rest = Dense.multiply this.Columns this.Coefficients
            this.Others |> Array.iteri (fun c j -> a.SetColumn(j, rest.Column c))

        a

/// Turning factors Left Right into PivotedFactors.
[<RequireQualifiedAccess>]
module PivotedFactors =

    /// How far above 1 a coefficient may stay before its column is swapped into the pivots (Goreinov et al.'s maxvol
    /// stopping rule): each swap multiplies |det R_P| by more than this, so the search ends.
    [<Literal>]
    let private Dominance = 1.01

    /// A residual column norm below this fraction of the largest column norm counts as in the pivots' span.
    [<Literal>]
    let private SpanTolerance = 1e-12

    /// Column-pivoted Gram-Schmidt on R (k x d): the columns chosen greedily by largest residual norm, stopping when every
    /// residual is below SpanTolerance times the largest column norm. O(k d r).
    let private greedyPivots (right: Matrix<float>) =
        let k, d = right.RowCount, right.ColumnCount
        let columns = Array.init d (fun j -> right.Column(j).ToArray())
        let norms = columns |> Array.map (fun c -> Array.sumBy (fun x -> x * x) c)
        let threshold = (SpanTolerance * sqrt (Array.max norms)) ** 2.0
        let chosen = ResizeArray<int>()
        let taken = Array.zeroCreate d
        let mutable searching = true

        while searching && chosen.Count < k do
            let mutable best = -1
            let mutable bestNorm = threshold

            for j in 0 .. d - 1 do
                if norms[j] > bestNorm && not taken[j] then
                    best <- j
                    bestNorm <- norms[j]

            if best < 0 then
                searching <- false
            else
                let q = columns[best] |> Array.map (fun x -> x / sqrt bestNorm)
                chosen.Add best
                taken[best] <- true

                for j in 0 .. d - 1 do
                    if not taken[j] then
                        let c = columns[j]
                        let mutable dot = 0.0

                        for i in 0 .. k - 1 do
                            dot <- dot + q[i] * c[i]

                        for i in 0 .. k - 1 do
                            c[i] <- c[i] - dot * q[i]

                        // Recomputed rather than downdated: the downdate loses the small residuals that decide the
                        // rank.
                        norms[j] <- Array.sumBy (fun x -> x * x) c

        chosen.ToArray()

    /// <summary>The pivoted form of A~ = Left Right: the pivots P are chosen greedily (column-pivoted QR of Right), then
    /// improved by maxvol swaps until every coefficient is at most 1.01 in magnitude; C solves R_P C = R_Q (least squares,
    /// exact when R_P has full column rank, which the pivoting ensures), and B = Left R_P. When Right has numerical rank
    /// r &lt; k (a column norm below 1e-12 of the largest after r steps), r pivots are kept: A~ has rank r and is stored in
    /// r (n + d - r) numbers.</summary>
    /// <param name="left">n x k.</param>
    /// <param name="right">k x d.</param>
    /// <returns>The same matrix as Left Right up to rounding (relative to ||Left|| ||Right||). A zero Right gives rank 0:
    /// no pivots, every column among the others with a 0 x d coefficient matrix. O(k d r + n k r) plus O(k (d - r)) per
    /// swap (at most a few times r swaps in practice).</returns>
    /// <exception cref="System.ArgumentException">a factor is empty or not finite, or their inner sizes differ.
    /// </exception>
    [<CompiledName("OfFactors")>]
    let ofFactors (left: Matrix<float>) (right: Matrix<float>) : PivotedFactors =
        Guard.notNull (nameof left) left
        Guard.notNull (nameof right) right
        Guard.nonEmpty (nameof left) left
        Guard.nonEmpty (nameof right) right
        Guard.finiteMatrix (nameof left) left
        Guard.finiteMatrix (nameof right) right

        if left.ColumnCount <> right.RowCount then
            raise (
                ArgumentException(
                    $"Expected right to have left's {left.ColumnCount} columns as rows, but it is {Guard.shape right}.",
                    nameof right
                )
            )

        let d = right.ColumnCount
        let pivots = greedyPivots right
        let r = pivots.Length
        let isPivot = Array.zeroCreate d
        pivots |> Array.iter (fun j -> isPivot[j] <- true)
        let others = [| 0 .. d - 1 |] |> Array.filter (fun j -> not isPivot[j])

        if r = 0 then
            {
                Columns = Matrix<float>.Build.Dense(left.RowCount, 0)
                Coefficients = Matrix<float>.Build.Dense(0, d)
                Pivots = [||]
                Others = others
            }
        else
            let rp = Matrix<float>.Build.DenseOfColumnVectors(pivots |> Array.map right.Column)

            let coefficients =
                if others.Length = 0 then
                    Matrix<float>.Build.Dense(r, 0)
                else
                    let rq = Matrix<float>.Build.DenseOfColumnVectors(others |> Array.map right.Column)
                    fst (Dense.leastSquares rp rq)

            // Maxvol: swapping pivot i for other column j replaces R_P by R_P E, E = I with column i set to c = C[:, j];
            // E^-1 = I - (c - e_i) e_i^T / c_i gives every new coefficient without a solve (Sherman-Morrison).
            let mutable swapping = others.Length > 0
            let mutable swaps = 0

            while swapping && swaps < 10 * r + 10 do
                let mutable bi, bj, bv = 0, 0, 0.0

                for j in 0 .. others.Length - 1 do
                    for i in 0 .. r - 1 do
                        let v = abs coefficients[i, j]

                        if v > bv then
                            bi <- i
                            bj <- j
                            bv <- v

                if bv <= Dominance then
                    swapping <- false
                else
                    let c = coefficients.Column(bj).ToArray()
                    let ci = c[bi]
                    let row = coefficients.Row(bi).ToArray()

                    for j in 0 .. others.Length - 1 do
                        let f = row[j] / ci

                        for m in 0 .. r - 1 do
                            coefficients[m, j] <- coefficients[m, j] - (c[m] - (if m = bi then 1.0 else 0.0)) * f

                    // The old pivot becomes other column bj: its coefficients are E^-1 e_i.
                    for m in 0 .. r - 1 do
                        coefficients[m, bj] <- (if m = bi then 1.0 / ci else -c[m] / ci)

                    let old = pivots[bi]
                    pivots[bi] <- others[bj]
                    others[bj] <- old
                    swaps <- swaps + 1

            let rp = Matrix<float>.Build.DenseOfColumnVectors(pivots |> Array.map right.Column)

            {
                Columns = Dense.multiply left rp
                Coefficients = coefficients
                Pivots = pivots
                Others = others
            }

    /// <summary>Numbers a rank-k matrix of n x d stores in the pivoted form, k (n + d - k), against k (n + d) for
    /// Left Right: it is below n d for every k &lt; min(n, d), since n d - k (n + d - k) = (n - k)(d - k).</summary>
    /// <param name="inputs">n &gt;= 1.</param>
    /// <param name="outputs">d &gt;= 1.</param>
    /// <param name="rank">0 &lt;= k &lt;= min(n, d).</param>
    /// <returns>k (n + d - k).</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">a size is below 1 or the rank is out of range.</exception>
    [<CompiledName("Parameters")>]
    let parameters (inputs: int) (outputs: int) (rank: int) =
        Guard.positive (nameof inputs) inputs
        Guard.positive (nameof outputs) outputs

        if rank < 0 || rank > min inputs outputs then
            raise (
                ArgumentOutOfRangeException(
                    nameof rank,
                    rank,
                    $"Expected 0 <= rank <= min(inputs, outputs) = {min inputs outputs}, but it is {rank}."
                )
            )

        int64 rank * int64 (inputs + outputs - rank)
