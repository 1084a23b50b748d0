namespace LowRank.Core

open System
open MathNet.Numerics.LinearAlgebra

/// Generated data sets with the structure of the paper's experiments, fixed by a seed, for demos, tests and
/// benchmarks that must not depend on downloads.
[<RequireQualifiedAccess>]
module Synthetic =

    /// <summary>Frames of a video-like sequence: a slowly changing low-rank background, a few moving sparse objects,
    /// and noise, on the 0..255 scale of 8-bit video (the kind of data of Indyk, Vakilian and Yuan 2019, Section 5,
    /// whose train and test matrices are frames of one video).</summary>
    /// <remarks>Frame t (t = 0, 1, ...) is B(t) + F(t) + N(t):
    /// <list type="bullet">
    /// <item>B(t) = sum over q = 1..4 of a_q(t) u_q v_q^T, with smooth nonnegative profiles u_q (rows) and v_q
    /// (columns), each 0.5 + 0.5 cos of a low frequency with a random phase, and weights a_q(t) = c_q (1 + 0.2 sin(2 pi
    /// t / P_q + phi_q)) with c = 100, 40, 20, 10 and periods P_q of 150 to 400 frames: rank 4 at every t, changing
    /// slowly;</item>
    /// <item>F(t): three rectangles of height/5 x width/12 pixels (at least 1 x 1), each of intensity +60 to +100,
    /// moving horizontally at 1 to 3 pixels a frame and wrapping around: sparse, and not low rank over time;</item>
    /// <item>N(t): independent Gaussian noise of standard deviation 2.</item>
    /// </list>
    /// Cost: O(frames height width). Consecutive frames are close, as in real video, so the first frames suit
    /// training and later ones testing.</remarks>
    /// <param name="seed">Fixes the profiles, phases, objects and noise (System.Random(seed)).</param>
    /// <param name="frames">How many frames, >= 1.</param>
    /// <param name="height">Rows of each frame, >= 1.</param>
    /// <param name="width">Columns of each frame, >= 1.</param>
    /// <returns>frames matrices of height x width.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">frames, height or width is below 1.</exception>
    [<CompiledName("VideoLike")>]
    let videoLike (seed: int) (frames: int) (height: int) (width: int) : Matrix<float>[] =
        Guard.positive (nameof frames) frames
        Guard.positive (nameof height) height
        Guard.positive (nameof width) width
        let random = Random(seed)

        let profile length =
            let frequency = 0.5 + 2.5 * random.NextDouble()
            let phase = 2.0 * Math.PI * random.NextDouble()

            Array.init length (fun i ->
                0.5
                + 0.5
                  * cos (phase + 2.0 * Math.PI * frequency * float i / float (max 1 (length - 1))))

        let scales = [| 100.0; 40.0; 20.0; 10.0 |]

        let components =
            scales
            |> Array.map (fun scale ->
                let u = profile height
                let v = profile width
                let period = 150.0 + 250.0 * random.NextDouble()
                let phase = 2.0 * Math.PI * random.NextDouble()
                u, v, (fun t -> scale * (1.0 + 0.2 * sin (2.0 * Math.PI * float t / period + phase))))

        let objectHeight = max 1 (height / 5)
        let objectWidth = max 1 (width / 12)

        let objects =
            Array.init 3 (fun _ ->
                let top = random.Next(max 1 (height - objectHeight + 1))
                let left = random.Next width
                let speed = 1 + random.Next 3
                let intensity = 60.0 + 40.0 * random.NextDouble()
                top, left, speed, intensity)

        Array.init frames (fun t ->
            let frame = Matrix<float>.Build.Dense(height, width)
            let data = frame.AsColumnMajorArray()

            for u, v, weight in components do
                let a = weight t

                for j in 0 .. width - 1 do
                    let avj = a * v[j]

                    for i in 0 .. height - 1 do
                        data[j * height + i] <- data[j * height + i] + avj * u[i]

            for top, left, speed, intensity in objects do
                for dj in 0 .. objectWidth - 1 do
                    let j = (left + speed * t + dj) % width

                    for i in top .. min (height - 1) (top + objectHeight - 1) do
                        data[j * height + i] <- data[j * height + i] + intensity

            for q in 0 .. data.Length - 1 do
                data[q] <- data[q] + 2.0 * Dense.standardNormal random

            frame)

    /// <summary>A weighted low-rank problem whose weights are low rank (the setting of Woodruff and Yasuda 2024,
    /// Theorem 1.2): A = S + N / W entrywise, a rank-20 signal S = G H / sqrt 20 (G n x 20, H 20 x d standard normal)
    /// plus noise N (standard normal) whose standard deviation 1 / W_ij differs by row and by column, and W = sum over
    /// q &lt; r of u_q v_q^T with row profiles u_q uniform in [0.1, 1] (halved for q &gt; 0) and column profiles
    /// v_q = exp(uniform in [-1.5, 1.5]): W is the square root of the noise's precision, so the weighted loss
    /// ||W o (A - A~)||_F is the negative log-likelihood up to constants, and rank(W) = r (almost surely). The demo,
    /// `reproduce weighted-synthetic` and the tests use it.</summary>
    /// <param name="seed">Fixes the profiles (System.Random(seed)) and S and N (MathNet's seeded normals, seeds
    /// seed + 1 .. seed + 3).</param>
    /// <param name="rows">n &gt;= 1.</param>
    /// <param name="columns">d &gt;= 1.</param>
    /// <param name="weightRank">r &gt;= 1.</param>
    /// <returns>(A, W), both n x d, W positive. O(n d (20 + r)).</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">rows, columns or weightRank is below 1.</exception>
    [<CompiledName("WeightedProblem")>]
    let weightedProblem (seed: int) (rows: int) (columns: int) (weightRank: int) =
        Guard.positive (nameof rows) rows
        Guard.positive (nameof columns) columns
        Guard.positive (nameof weightRank) weightRank
        let build = Matrix<float>.Build
        let random = Random(seed)

        let uniform low high =
            low + (high - low) * random.NextDouble()

        let mutable w = build.Dense(rows, columns)

        for q in 0 .. weightRank - 1 do
            let u = Array.init rows (fun _ -> uniform 0.1 1.0 * (if q = 0 then 1.0 else 0.5))

            let v = Array.init columns (fun _ -> exp (uniform -1.5 1.5))
            w <- w + build.Dense(rows, 1, u) * build.Dense(1, columns, v)

        let signal =
            build.Random(rows, 20, seed + 1) * build.Random(20, columns, seed + 2)
            / sqrt 20.0

        let noise = build.Random(rows, columns, seed + 3)
        signal + noise.PointwiseDivide(w), w

    /// <summary>Matrices that a sketch with rows L (m x n) cannot see, as in Theorem 1 of Indyk, Vakilian and Yuan
    /// (NeurIPS 2019): A = P B + c L^T G, with P = I - L^+ L the projection onto the orthogonal complement of L's row
    /// space, B = G_1 G_2 + noise sqrt(k) G_3 a rank-k signal plus noise (G_1 n x k, G_2 k x d, G_3 n x d, G m x d, all
    /// standard normal), and c chosen so that the decoy c L^T G, which lies in L's row space, has norm 1e-3 ||P B||_F.
    /// In exact arithmetic L P B = 0: everything A holds beyond the decoy is invisible to L, so SCW with L sees only the
    /// decoy (rounding leaves S P B at eps size, which SCW's relative rank cut-off would otherwise keep), while a sketch
    /// with random rows sees P B. `reproduce worst-case` measures a learned sketch and mixed ones on them.</summary>
    /// <param name="seed">System.Random(seed) draws every Gaussian (Box-Muller), matrix by matrix in the order above,
    /// noise by noise.</param>
    /// <param name="count">Matrices per noise level, &gt;= 1.</param>
    /// <param name="noises">The noise levels, each finite and &gt;= 0 (at least one).</param>
    /// <param name="rank">k &gt;= 1, the signal's rank.</param>
    /// <param name="columns">d &gt;= 1.</param>
    /// <param name="sketchRows">L (m x n), the sketch as a matrix (Sketch.apply of the identity), finite, not all 0.</param>
    /// <returns>For each noise level, count matrices of n x d. O(n^2 m) for P, then O(n d (n + k + m)) a matrix.</returns>
    /// <exception cref="System.ArgumentException">sketchRows is empty, zero or not finite, or noises is empty or has a
    /// negative or non-finite level.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">count, rank or columns is below 1.</exception>
    [<CompiledName("HiddenFrom")>]
    let hiddenFrom (seed: int) (count: int) (noises: float[]) (rank: int) (columns: int) (sketchRows: Matrix<float>) =
        Guard.positive (nameof count) count
        Guard.positive (nameof rank) rank
        Guard.positive (nameof columns) columns
        Guard.finiteMatrix (nameof sketchRows) sketchRows
        Guard.notNull (nameof noises) noises

        if noises.Length = 0 then
            raise (ArgumentException("Expected at least one noise level, but noises is empty.", nameof noises))

        Guard.nonNegativeFinite (nameof noises) (nameof noises) "noise levels" noises

        if sketchRows.FrobeniusNorm() = 0.0 then
            raise (
                ArgumentException(
                    "Expected a sketch with a nonzero row, but sketchRows is all zero.",
                    nameof sketchRows
                )
            )

        let m, n = sketchRows.RowCount, sketchRows.ColumnCount

        let projector =
            Matrix<float>.Build.DenseIdentity n - sketchRows.PseudoInverse() * sketchRows

        let random = Random(seed)

        // Box-Muller, one pair of uniforms an entry, in MathNet's initialisation order.
        let gaussian rows cols =
            Matrix<float>
                .Build.Dense(
                    rows,
                    cols,
                    fun _ _ ->
                        sqrt (-2.0 * log (1.0 - random.NextDouble()))
                        * cos (2.0 * Math.PI * random.NextDouble())
                )

        noises
        |> Array.map (fun noise ->
            Array.init count (fun _ ->
                let signal = gaussian n rank * gaussian rank columns
                let hidden = projector * (signal + noise * sqrt (float rank) * gaussian n columns)
                let decoy = sketchRows.TransposeThisAndMultiply(gaussian m columns)
                hidden + 1e-3 * hidden.FrobeniusNorm() / decoy.FrobeniusNorm() * decoy))
