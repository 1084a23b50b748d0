namespace LowRank.Properties

open System
open System.IO
open System.Text
open System.Threading
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing
open LowRank.Testing.Generators
open LowRank.Properties.Runner

/// The values of the features added after the theorems' suite (issue 24), each recomputed from its definition on
/// inputs where a plausible slip shows: graded entries, zero weights, r k = min(n, d), every byte (the learned-sketch
/// features' values are in TrainingValues).
/// The theorems bound these features' results; these properties pin the results themselves.
module FeatureValues =

    /// Weights of rank r with r k = min(n, d) exactly: svd_w's bicriteria rank is r k (Theorem 1.2 holds there too),
    /// so W o A is kept whole and A~ = A wherever W is positive. An exact-rank test with &lt; where &lt;= belongs sends
    /// this boundary to the energy rule and a smaller r.
    [<Fact>]
    let ``svd_w's bicriteria rank is r k at r k = min(n, d), and it reproduces A on W's support`` () =
        let boundary =
            gen {
                let! k = Gen.choose (1, 3)
                let! r = Gen.choose (1, 3)
                let small = r * k
                let! large = Gen.choose (small, small + 6)
                let! tall = Gen.elements [ true; false ]
                let! seed = seed
                return (if tall then large, small else small, large), r, k, seed
            }

        forAll boundary (fun ((n, d), r, k, seed) ->
            let random = Random(seed)

            let positive rows columns =
                (gaussian random rows columns).PointwiseAbs() + 0.1

            let w = positive n r * positive r d
            let a = gaussian random n d
            let result = Wlra.svdW WeightedCases.bicriteria k (Weights.ofMatrix w) a

            all [
                holds $"total rank {result.Rank} = r k = {r * k}" (result.Rank = r * k)
                holds $"WeightRank {result.WeightRank} = r = {r}" (result.WeightRank = r)
                atMost (medium |> scaledTo (Norm.weightedFrobenius w a)) "loss = 0" result.Loss 0.0
            ])
        |> checkWith 60

    /// Amplification is max |A~_ij| over every entry (divided by max |A|), and the loss is ||W o (A - A~)||_F of the
    /// formed A~, for every method, on weights with exact zeros: the methods that do not divide by W put their low-rank
    /// values where W is 0, which a maximum over positive weights only would miss.
    [<Fact>]
    let ``every method's amplification and loss are those of its formed approximation`` () =
        let cases =
            gen {
                let! n, d = shape
                let! k = Gen.choose (1, min n d)
                let! a = matrixOfShape n d
                let! zeros = Gen.elements [ 0.2; 0.5 ]
                let! seed = seed
                return a, k, zeros, seed
            }

        forAll cases (fun (a, k, zeros, seed) ->
            let a = a.Build()
            let random = Random(seed)

            let w =
                Matrix<float>
                    .Build.Dense(
                        a.RowCount,
                        a.ColumnCount,
                        fun _ _ ->
                            if random.NextDouble() < zeros then
                                0.0
                            else
                                0.5 + random.NextDouble()
                    )

            // Keep one positive weight: all-zero weights are rejected.
            w[0, 0] <- 1.0
            let weights = Weights.ofMatrix w

            let options = {
                WlraOptions.Default with
                    MaxIterations = 3
                    AdamSteps = 5
            }

            let methods = [
                "svd", (fun () -> Wlra.svd k weights a)
                "svd_w", (fun () -> Wlra.svdW options k weights a)
                "em", (fun () -> Wlra.em options ignore CancellationToken.None k weights a)
                "als", (fun () -> Wlra.als options ignore CancellationToken.None k weights a)
                "adam", (fun () -> Wlra.adam options ignore CancellationToken.None k weights a)
                "greedy", (fun () -> Wlra.greedy ignore CancellationToken.None k weights a)
                "sample", (fun () -> Wlra.sample options k weights a)
            ]

            let top = a.Enumerate() |> Seq.map abs |> Seq.max

            methods
            |> List.collect (fun (name, run) ->
                let result = run ()
                let formed = result.ToMatrix()
                let largest = formed.Enumerate() |> Seq.map abs |> Seq.max

                let expected =
                    if top > 0.0 then largest / top
                    elif largest > 0.0 then infinity
                    else 0.0

                [
                    close high $"{name}: amplification = max |A~| / max |A|" result.Amplification expected
                    close
                        (medium
                         |> scaledTo (Norm.weightedFrobenius w a + Norm.weightedFrobenius w formed))
                        $"{name}: loss = ||W o (A - A~)||_F"
                        result.Loss
                        (Norm.weightedFrobenius w (a - formed))
                ])
            |> all)
        |> checkWith 40

    /// The square root of a symmetric positive semidefinite matrix plus lambda I, from its eigendecomposition.
    let private rootPlus (lambda: float) (c: Matrix<float>) =
        let evd = c.Evd(Symmetricity.Symmetric)
        let q = evd.EigenVectors
        let roots = evd.EigenValues.Real().Map(fun e -> sqrt (max e 0.0 + lambda))
        q * Matrix<float>.Build.DiagonalOfDiagonalVector(roots) * q.Transpose()

    /// Two-sided compression's reported objective is ||C_l^(1/2) (A - L R) G_l^(1/2)||_F of its own factors (C_l and G_l
    /// the second moments plus their ridges, lambda = ridge tr / size), and no rank-k candidate does better than it.
    /// Factors that leave out G_l^(-1/2) on the output side report one objective and return another matrix.
    [<Fact>]
    let ``two-sided compression's objective is that of its factors, and no candidate beats it`` () =
        let cases =
            gen {
                let! n, d = shape
                let! k = Gen.choose (1, min n d)
                let! a = matrixOfShape n d
                let! examples = Gen.choose (1, 2 * (n + d))
                let! graded = Gen.elements [ 1.0; 10.0; 1000.0 ]
                let! seed = seed
                return a, k, examples, graded, seed
            }

        forAll cases (fun (a, k, examples, graded, seed) ->
            let a = a.Build()
            let n, d = a.RowCount, a.ColumnCount
            let random = Random(seed)
            // Graded columns make G far from a multiple of I, where the output side's whitening shows.
            let grading (size: int) =
                Matrix<float>
                    .Build.DiagonalOfDiagonalArray(
                        Array.init size (fun i -> graded ** (-float i / float (max 1 (size - 1))))
                    )

            let x = gaussian random examples n * grading n
            let delta = gaussian random examples d * grading d
            let c = x.TransposeThisAndMultiply x / float examples
            let g = delta.TransposeThisAndMultiply delta / float examples
            let ridge = 1e-3
            let result = Compression.twoSided ridge k c g a
            let cRoot = rootPlus (ridge * c.Trace() / float n) c
            let gRoot = rootPlus (ridge * g.Trace() / float d) g

            let objective (b: Matrix<float>) =
                (cRoot * (a - b) * gRoot).FrobeniusNorm()

            let formed = result.Left * result.Right
            let candidate = (Svd.bestRankK k a).ToMatrix()
            let scale = (cRoot * a * gRoot).FrobeniusNorm()

            all [
                close
                    ({ Absolute = 1e-8; Relative = 1e-8 } |> scaledTo scale)
                    "reported objective = ||C_l^(1/2) (A - L R) G_l^(1/2)||_F"
                    result.Objective
                    (objective formed)
                atMost
                    ({ Absolute = 1e-8; Relative = 1e-8 } |> scaledTo scale)
                    "objective <= that of [A]_k"
                    (objective formed)
                    (objective candidate)
            ])
        |> checkWith 60

    /// The .npy header of a C-order array of `descr` with this shape.
    let private npyHeader (descr: string) (rows: int) (columns: int) =
        let text =
            $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {columns}), }}"

        let padded = text.PadRight((10 + text.Length + 1 + 63) / 64 * 64 - 10 - 1) + "\n"

        Array.concat [
            [| 0x93uy; byte 'N'; byte 'U'; byte 'M'; byte 'P'; byte 'Y'; 1uy; 0uy |]
            BitConverter.GetBytes(uint16 padded.Length)
            Encoding.ASCII.GetBytes padded
        ]

    /// A uint8 .npy reads as its byte values, every one of 0..255 (the fixtures of a project hold values below 128,
    /// where a decoder that sign-extends is right by accident), and an int8 one as their two's-complement values.
    [<Fact>]
    let ``every byte value of a uint8 or int8 .npy reads as itself`` () =
        let cases =
            gen {
                let! rows = Gen.choose (1, 20)
                let! columns = Gen.choose (1, 20)
                let! seed = seed
                return rows, columns, seed
            }

        forAll cases (fun (rows, columns, seed) ->
            let random = Random(seed)
            // Every byte value at least once when there is room, the rest random.
            let bytes =
                Array.init (rows * columns) (fun e -> if e < 256 then byte e else byte (random.Next 256))

            random.Shuffle bytes
            let path = Path.Combine(Path.GetTempPath(), $"lowrank-bytes-{Guid.NewGuid():N}.npy")

            try
                [ "|u1", (fun (b: byte) -> float b); "|i1", (fun (b: byte) -> float (sbyte b)) ]
                |> List.map (fun (descr, value) ->
                    File.WriteAllBytes(path, Array.append (npyHeader descr rows columns) bytes)
                    let read = Npy.readMatrix path

                    let wrong = [
                        for i in 0 .. rows - 1 do
                            for j in 0 .. columns - 1 do
                                let b = bytes[i * columns + j]

                                if read[i, j] <> value b then
                                    yield b, read[i, j]
                    ]

                    holds $"{descr}: byte values read back (wrong: {List.truncate 3 wrong})" wrong.IsEmpty)
                |> all
            finally
                File.Delete path)
        |> checkWith 30

    /// The errors SCW reports in memory, streamed from a file and distributed over ranks are ||A - SCW(S, A)||_F to
    /// the rounding of A (1e-12 ||A||_F), on graded spectra where the error is many orders below ||A||_F: computed as
    /// ||A||^2 - ||kept||^2 it would lose every digit below sqrt(eps) ||A||_F.
    [<Fact>]
    let ``SCW's in-memory, streamed and distributed errors keep their digits on graded spectra`` () =
        let cases =
            gen {
                let! rows, columns = shape
                let! k = Gen.choose (1, min rows columns)
                let! extra = Gen.choose (0, 4)
                let! ratio = Gen.elements [ 0.3; 1e-2; 1e-4 ]
                let! ranks = Gen.choose (1, 3)
                let! seed = seed

                let spec = {
                    Rows = rows
                    Columns = columns
                    Rank = min rows columns
                    Spectrum = Graded ratio
                    Scale = 1.0
                    Seed = seed
                }

                return spec, k, k + extra, ranks, seed
            }

        let folder = Directory.CreateTempSubdirectory("lowrank-graded").FullName

        try
            forAll cases (fun (spec, k, m, ranks, seed) ->
                let a = spec.Build()
                let blockSketch = BlockSketch.Hashed(seed, m)
                let sketch = Sketch.hashedCountSketch seed m a.RowCount
                let accuracy = { Absolute = 1e-12; Relative = 1e-8 } |> scaledTo (Norm.frobenius a)
                let inMemory = Scw.approximate k sketch a
                let path = Path.Combine(folder, "a.npy")
                let leftPath = Path.Combine(folder, "left.npy")
                Npy.writeMatrix path a

                let streamed =
                    Streaming.approximateFile k blockSketch 3 ignore CancellationToken.None path leftPath

                let streamedError =
                    if streamed.Right.RowCount = 0 then
                        Norm.frobenius a
                    else
                        Norm.frobenius (a - Npy.readMatrix leftPath * streamed.Right)

                let cuts = Array.init (ranks + 1) (fun i -> i * a.RowCount / ranks)

                let parts =
                    Array.init ranks (fun i -> a.SubMatrix(cuts[i], cuts[i + 1] - cuts[i], 0, a.ColumnCount))

                let distributed =
                    Communicator.runInProcess ranks (fun c ->
                        let mine = Distributed.approximate c k blockSketch parts[c.Rank]
                        mine, Distributed.gatherRows c mine.Left)

                let first, left = distributed[0]

                let distributedError =
                    if first.Right.RowCount = 0 then
                        Norm.frobenius a
                    else
                        Norm.frobenius (a - left * first.Right)

                all [
                    close
                        accuracy
                        "in memory: Scw.error = ||A - L R||_F"
                        (Scw.error k sketch a)
                        (Norm.frobenius (a - inMemory.ToMatrix()))
                    close accuracy "streamed: Error = ||A - L R||_F" streamed.Error streamedError
                    close accuracy "distributed: Error = ||A - L R||_F" first.Error distributedError
                ])
            |> checkWith 60
        finally
            Directory.Delete(folder, true)

    /// Data-aware compression's objective is ||C_l^(1/2) (A - L R)||_F of its factors, with C_l = C + lambda I and the
    /// reported ridge lambda = ridge tr(C) / n; no rank-k candidate beats it.
    [<Fact>]
    let ``data-aware compression's ridge and objective are those of its definition`` () =
        let cases =
            gen {
                let! n, d = shape
                let! k = Gen.choose (1, min n d)
                let! a = matrixOfShape n d
                let! examples = Gen.choose (1, 2 * n)
                let! ridge = Gen.elements [ 1e-6; 1e-3; 0.3 ]
                let! seed = seed
                return a, k, examples, ridge, seed
            }

        forAll cases (fun (a, k, examples, ridge, seed) ->
            let a = a.Build()
            let n = a.RowCount
            let x = gaussian (Random seed) examples n
            let c = x.TransposeThisAndMultiply x / float examples
            let result = Compression.dataAware ridge k c a
            let lambda = ridge * c.Trace() / float n
            let root = rootPlus lambda c
            let objective (b: Matrix<float>) = (root * (a - b)).FrobeniusNorm()

            let accuracy =
                { Absolute = 1e-8; Relative = 1e-8 } |> scaledTo ((root * a).FrobeniusNorm())

            all [
                close high "Ridge = ridge tr(C) / n" result.Ridge lambda
                close
                    accuracy
                    "objective = ||C_l^(1/2) (A - L R)||_F"
                    result.Objective
                    (objective (result.Left * result.Right))
                atMost
                    accuracy
                    "objective <= that of [A]_k"
                    result.Objective
                    (objective ((Svd.bestRankK k a).ToMatrix()))
            ])
        |> checkWith 60

    /// Scw.projectionError (||A||_F^2 - ||L||_F^2) equals errorOf on the projections this library returns (SCW and
    /// power iterations from Gaussian and CountSketch starts), on every shape, rank (zero and exactly low rank included,
    /// where the norms cancel and the residual is formed) and spectrum; and it refuses a Right whose rows are not
    /// orthonormal, which would make the formula wrong.
    [<Fact>]
    let ``projectionError equals errorOf on SCW and power results, and refuses non-orthonormal factors`` () =
        let cases =
            gen {
                let! n, d = shape
                let! rank = rankFor n d
                let! spec = spectrumOfShape n d rank
                let! k = Gen.choose (1, min n d)
                let! q = Gen.choose (0, 2)
                let! gaussian = Gen.elements [ true; false ]
                return spec, k, q, gaussian
            }

        forAll cases (fun (spec, k, q, gaussian) ->
            let a = spec.Build()
            let m = k + 2

            let sketch =
                if gaussian then
                    Sketch.gaussian spec.Seed m a.RowCount
                else
                    Sketch.countSketch spec.Seed m a.RowCount

            let result = Scw.approximateWithPower q k sketch a
            let accuracy = { Absolute = 1e-12; Relative = 1e-7 } |> scaledTo (Norm.frobenius a)

            let refused =
                result.Rank = 0
                || (try
                        Scw.projectionError a {
                            result with
                                Right = 2.0 * result.Right
                        }
                        |> ignore

                        false
                    with :? ArgumentException ->
                        true)

            all [
                close accuracy "projectionError = errorOf" (Scw.projectionError a result) (Scw.errorOf a result)
                holds "a Right without orthonormal rows is refused" refused
            ])
        |> checkWith 100

    /// Scw.errorOf is ||A - L R||_F for any factors, not only SCW's: arbitrary L and R, and A = L R + a perturbation
    /// many orders below it (where the expansion ||A||^2 - 2 <A R^T, L> + ||L R||^2 cancels and the residual must be
    /// formed), at any scale.
    [<Fact>]
    let ``errorOf is the Frobenius norm of the formed residual, for any factors and tiny residuals`` () =
        let cases =
            gen {
                let! n, d = shape
                let! r = Gen.choose (1, min n d)
                let! perturbation = Gen.elements [ 1.0; 1e-6; 1e-12; 0.0 ]
                let! scale = scale
                let! seed = seed
                return n, d, r, perturbation, scale, seed
            }

        forAll cases (fun (n, d, r, perturbation, scale, seed) ->
            let random = Random(seed)
            let left = scale * gaussian random n r
            let right = gaussian random r d
            let a = left * right + perturbation * scale * gaussian random n d

            let approximation = {
                Left = left
                Right = right
                SingularValues = Array.zeroCreate r
            }

            let formed = Norm.frobenius (a - left * right)
            let accuracy = { Absolute = 1e-13; Relative = 1e-8 } |> scaledTo (Norm.frobenius a)
            close accuracy "errorOf = ||A - L R||_F" (Scw.errorOf a approximation) formed)
        |> checkWith 100
