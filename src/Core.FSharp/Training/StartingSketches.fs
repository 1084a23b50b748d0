namespace LowRank.Core

open System
open System.Diagnostics
open System.IO
open System.Threading
open MathNet.Numerics.LinearAlgebra

/// Where a learned sketch starts: the rows it trains, its positions (principal directions, the greedy search, random
/// rows) and its first values (Indyk, Vakilian and Yuan 2019, section 3; the greedy start of their section 5).
[<RequireQualifiedAccess>]
module internal StartingSketches =


    /// <summary>The top `count` left singular vectors (n x count, orthonormal columns) of the matrices A_i / c_i placed
    /// side by side, i.e. the top eigenvectors of sum_i A_i A_i^T / c_i^2, without forming that n x n sum when count is
    /// small: randomized subspace iteration (Halko, Martinsson and Tropp 2011, Algorithm 4.4) from a seeded Gaussian
    /// start with 10 extra columns and 4 products with the sum, then Rayleigh-Ritz on the (count + 10)-dimensional
    /// subspace. Cost: 5 passes of 4 n d (count + 10) flops per matrix.</summary>
    let internal principalDirections
        (sum: float[] -> float[])
        (workers: int)
        (load: int -> Matrix<float>)
        (n: int)
        (count: int)
        (seed: int)
        (data: (int * float)[])
        =
        let columns = min n (count + 10)

        // Y = sum_i A_i (A_i^T Q) / c_i^2, one pass over the matrices (side by side, summed in order).
        let product (q: Matrix<float>) =
            let y = Matrix<float>.Build.Dense(n, q.ColumnCount)

            // This process's matrices only; `sum` adds the other processes' parts (data-parallel training).
            for part in
                Backend.mapSideBySide
                    workers
                    (fun (i, scale) ->
                        let a = load i
                        Dense.gemm false a false (Dense.gemm true a false q) / (scale * scale))
                    data do
                y.Add(part, y)

            Matrix<float>.Build.Dense(n, q.ColumnCount, sum (y.AsColumnMajorArray()))

        let random = Random(seed)

        let mutable q =
            Matrix<float>.Build.Dense(n, columns, fun _ _ -> Dense.standardNormal random)

        for _ in 1..4 do
            q <- fst (Dense.qr (product q))

        // Rayleigh-Ritz: the eigenvectors of Q^T (sum A A^T) Q, largest first.
        let small = Dense.gemm true q false (product q)
        let values, vectors = Dense.symmetricEigen ((small + small.Transpose()) / 2.0)
        let order = Array.init values.Length id |> Array.sortBy (fun i -> -values[i])

        let top =
            Matrix<float>.Build.DenseOfColumnVectors(order[.. min count n - 1] |> Array.map vectors.Column)

        let u = Dense.multiply q top

        // More directions than R^n has (m' > n): the extra columns are zero, so those sketch rows start empty.
        if count <= n then
            u
        else
            u.Append(Matrix<float>.Build.Dense(n, count - n))

    /// sum of the top `rank` eigenvalues of D^(-1/2) W^T C C^T W D^(-1/2), with W D W^T the eigendecomposition of the
    /// Gram matrix S A (S A)^T (directions below 1e-12 of its largest eigenvalue dropped) and C = S A V_K Sigma_K: that
    /// is ||[A_K Q]_k||_F^2 for Q an orthonormal basis of S A's row space and A_K A's best rank-K approximation, and
    /// ||A - SCW(S, A)||_F^2 = ||A||_F^2 - ||[A Q]_k||_F^2, so maximising it minimises the SCW error (exactly when
    /// K = rank(A)).
    let private greedyObjective (rank: int) (gram: Matrix<float>) (c: Matrix<float>) =
        let values, vectors = Dense.symmetricEigen ((gram + gram.Transpose()) / 2.0)
        let top = Array.max values

        if not (top > 0.0) then
            0.0
        else
            let keep =
                Array.init values.Length id |> Array.filter (fun i -> values[i] > 1e-12 * top)

            let b =
                Matrix<float>
                    .Build.DenseOfRowVectors(
                        keep
                        |> Array.map (fun i -> c.TransposeThisAndMultiply(vectors.Column i) / sqrt values[i])
                    )

            let eigenvalues, _ = Dense.symmetricEigen (b * b.Transpose())
            eigenvalues |> Array.sortDescending |> Array.truncate rank |> Array.sum

    /// The greedy position search (Li, Lin, Liu, Vakilian and Woodruff, ICLR 2023) for a sketch with one nonzero per
    /// column (`hash`, `values`; hash is updated in place): for each column j in order, every row r of the m is tried
    /// for its nonzero, scored by the sum over `data` of ||[A_K Q]_k||_F^2 (greedyObjective; A normalized, K = k + 20),
    /// and the best row kept (the current one on ties). A trial changes two rows of S A, so its Gram matrix and
    /// S A V_K Sigma_K follow by rank-two updates without touching A: O(m^3 + m K) per trial and matrix.
    let internal greedyPositions
        (workers: int)
        (load: int -> Matrix<float>)
        (rank: int)
        (m: int)
        (hash: int[])
        (values: float[])
        (data: (int * float)[])
        =
        let states =
            data
            |> Array.map (fun (i, scale) ->
                let a = load i / scale
                let n, d = a.RowCount, a.ColumnCount
                let k = min (rank + 20) (min n d)
                let svd = Dense.thinSvd a
                let sigma = svd.S[.. k - 1]
                // V_K Sigma_K (d x K) and U_K Sigma_K^2 = A V_K Sigma_K (n x K): row j of the latter is what column j
                // adds to S A V_K Sigma_K.
                let vs =
                    Dense.scaleColumnsInPlace sigma (Dense.transpose (svd.Vt.SubMatrix(0, k, 0, d)))

                let us =
                    Dense.scaleColumnsInPlace (sigma |> Array.map (fun x -> x * x)) (svd.U.SubMatrix(0, n, 0, k))

                let sa = Sketch.applyUnchecked (CountSketch(m, hash, values)) 0 a
                a, vs, us, sa)

        let gramOf (sa: Matrix<float>) = Dense.gemm false sa true sa
        let mutable grams = states |> Array.map (fun (_, _, _, sa) -> gramOf sa)
        let mutable cs = states |> Array.map (fun (_, vs, _, sa) -> Dense.multiply sa vs)

        for j in 0 .. hash.Length - 1 do
            let v = values[j]
            let r0 = hash[j]

            if v <> 0.0 then
                // Per matrix: S A a_j (m), ||a_j||^2 and row j of U_K Sigma_K^2.
                let parts =
                    states
                    |> Array.map (fun (a, _, us, sa) ->
                        let aj = a.Row j
                        sa * aj, aj.DotProduct aj, us.Row j)

                let trial (r: int) =
                    let mutable total = 0.0

                    for g in 0 .. states.Length - 1 do
                        let sj, nj, pj = parts[g]
                        let gram = grams[g].Clone()
                        let c = cs[g].Clone()

                        if r <> r0 then
                            // S' A = S A + v (e_r - e_r0) a_j^T.
                            for q in 0 .. m - 1 do
                                let delta = v * sj[q]
                                gram[r, q] <- gram[r, q] + delta
                                gram[q, r] <- gram[q, r] + delta
                                gram[r0, q] <- gram[r0, q] - delta
                                gram[q, r0] <- gram[q, r0] - delta

                            let square = v * v * nj
                            gram[r, r] <- gram[r, r] + square
                            gram[r0, r0] <- gram[r0, r0] + square
                            gram[r, r0] <- gram[r, r0] - square
                            gram[r0, r] <- gram[r0, r] - square

                            for q in 0 .. pj.Count - 1 do
                                c[r, q] <- c[r, q] + v * pj[q]
                                c[r0, q] <- c[r0, q] - v * pj[q]

                        total <- total + greedyObjective rank gram c

                    total

                let scores = Backend.mapSideBySide workers trial (Array.init m id)
                // The current row unless another scores strictly higher (beyond rounding), then the lowest such row.
                let current = scores[r0]

                let best =
                    Array.init m id
                    |> Array.fold
                        (fun best r ->
                            if scores[r] > scores[best] + 1e-12 * abs current then
                                r
                            else
                                best)
                        r0

                if best <> r0 then
                    hash[j] <- best

                    states
                    |> Array.iter (fun (a, _, _, sa) ->
                        let aj = a.Row j
                        sa.SetRow(r0, sa.Row r0 - v * aj)
                        sa.SetRow(best, sa.Row best + v * aj))

                    grams <- states |> Array.map (fun (_, _, _, sa) -> gramOf sa)
                    cs <- states |> Array.map (fun (_, vs, _, sa) -> Dense.multiply sa vs)

    /// `count` of the items (1 &lt;= count &lt;= items.Length), evenly spaced from the first: the (q length / count)-th
    /// for q &lt; count, so that a video's chosen frames span its length (the held-out, principal and greedy matrices).
    let internal evenlySpaced (count: int) (items: 'T[]) =
        Array.init count (fun q -> items[q * items.Length / count])

    /// The fixed random rows of mixed kinds (None for Learned).
    let internal randomRows (options: TrainingOptions) (n: int) =
        match options.Kind with
        | LearnedSketchKind.Learned -> None
        | _ ->
            Some(
                Sketch.countSketch
                    (options.Seed ^^^ 0x2545F491)
                    (options.SketchRows - TrainingShape.trainedRows options)
                    n
            )

    /// The positions (n s entries: column j's rows at j s .. j s + s - 1, distinct) and starting values of the
    /// trained rows, and the fixed random rows of mixed kinds (None for Learned). `data` (the training matrices' indices
    /// for `load`, with their scales) is read only by the Principal start.
    let internal start
        (sharding: Sharding)
        (options: TrainingOptions)
        (workers: int)
        (load: int -> Matrix<float>)
        (data: (int * float)[])
        (n: int)
        =
        let m = TrainingShape.trainedRows options
        let s = TrainingShape.perColumn options
        let random = randomRows options n

        let positions, values =
            match options.Positions with
            | SketchPositions.Random when s = 1 ->
                match Sketch.countSketch options.Seed m n with
                | CountSketch(_, hash, values) -> hash, values
                | _ -> failwith "unreachable: countSketch builds a CountSketch"
            | SketchPositions.Random ->
                // s distinct rows per column by a partial Fisher-Yates shuffle, signs +-1/sqrt(s) (OSNAP's values).
                let random = Random(options.Seed)
                let rows = Array.init m id
                let positions = Array.zeroCreate (n * s)
                let values = Array.zeroCreate (n * s)

                for j in 0 .. n - 1 do
                    for t in 0 .. s - 1 do
                        let pick = t + random.Next(m - t)
                        let row = rows[pick]
                        rows[pick] <- rows[t]
                        rows[t] <- row
                        positions[j * s + t] <- row
                        values[j * s + t] <- (if random.Next 2 = 0 then -1.0 else 1.0) / sqrt (float s)

                positions, values
            | SketchPositions.Principal
            | SketchPositions.Greedy ->
                if data.Length = 0 then
                    invalidArg (nameof data) "The Principal start needs at least one training matrix."

                let chosen =
                    let c =
                        if options.PrincipalMatrices = 0 then
                            data.Length
                        else
                            min options.PrincipalMatrices data.Length

                    evenlySpaced c data

                let u =
                    principalDirections
                        sharding.Sum
                        workers
                        load
                        n
                        m
                        options.Seed
                        (chosen |> Array.filter (fst >> sharding.Owns))

                let scale = sqrt (float n)
                let positions = Array.zeroCreate (n * s)
                let values = Array.zeroCreate (n * s)

                for j in 0 .. n - 1 do
                    // The s rows with the largest |U[j, r]|, ties to the lower row; stable sort keeps that order.
                    let rows = Array.init m id |> Array.sortBy (fun r -> -abs u[j, r])

                    for t in 0 .. s - 1 do
                        positions[j * s + t] <- rows[t]
                        values[j * s + t] <- scale * u[j, rows[t]]

                if options.Positions = SketchPositions.Greedy then
                    let c = min options.GreedyMatrices data.Length
                    let scored = evenlySpaced c data
                    greedyPositions workers load options.Rank m positions values scored

                positions, values

        m, positions, values, random
