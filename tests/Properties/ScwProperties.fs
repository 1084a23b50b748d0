namespace LowRank.Properties

open System
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing
open LowRank.Testing.Generators
open LowRank.Properties.Runner

/// A matrix, a valid rank k and a sketch with at least k rows: every input SCW accepts.
module ScwCases =
    /// Any accepted input, edge cases included (1 x n, n x 1, zero, rank-deficient).
    let anyShape: Gen<MatrixSpec * int * SketchSpec> =
        gen {
            let! spec, k = matrixWithRank
            let! sketch = sketchWithAtLeast k
            return spec, k, sketch
        }

    /// Inputs where the theorems bite: n > m + k rows, d > m columns and rank(A) > m, so S A cannot hold A's row
    /// space, the optimum is not A itself, and the sketch's choice of subspace decides the error.
    let biting: Gen<MatrixSpec * int * SketchSpec> =
        gen {
            let! k = Gen.choose (1, 4)
            let! sketch = sketchWithAtLeast k
            let! rows = Gen.choose (sketch.Rows + k + 1, sketch.Rows + k + 12)
            let! columns = Gen.choose (sketch.Rows + 1, sketch.Rows + 16)
            let! rank = Gen.choose (sketch.Rows + 1, min rows columns)
            let! scale = scale
            let! seed = seed

            return
                {
                    Rows = rows
                    Columns = columns
                    Rank = rank
                    Scale = scale
                    Seed = seed
                },
                k,
                sketch
        }

    /// Two biting cases for each edge case.
    let withSketch = Gen.frequency [ 1, anyShape; 2, biting ]

/// Theorem 1 of Indyk, Vakilian and Yuan (NeurIPS 2019): appending rows to a sketch never increases the SCW error,
/// so a mixed learned+random sketch keeps the random sketch's worst-case guarantee.
module MixedSketchWorstCase =

    [<Fact>]
    let ``SCW with the stacked sketch [S1; S2] is never worse than with S1 alone`` () =
        let case =
            gen {
                let! spec, k, s1 = ScwCases.withSketch
                let! s2 = sketchWithAtLeast 1
                let! s1First = Gen.elements [ true; false ]
                return spec, k, s1, s2, s1First
            }

        let cases =
            NonTrivial "had S1 alone above the optimum (the theorem's inequality can be strict)"

        forAll case (fun (spec, k, s1, s2, s1First) ->
            let a = spec.Build()
            let first, second = s1.Build a.RowCount, s2.Build a.RowCount
            let mixed = Sketch.stack (if s1First then [ first; second ] else [ second; first ])
            let norm = Norm.frobenius a
            let accuracy = medium |> scaledTo norm
            let alone = Scw.error k first a

            atMost accuracy "||A - SCW([S1; S2], A)||_F <= ||A - SCW(S1, A)||_F" (Scw.error k mixed a) alone
            |> cases.Classify(alone > Svd.optimalError k a + 1e-8 * norm))
        |> checkNonTrivial 100 50 cases

    /// Theorem 1 for any sketch whose row space contains S_R's (not only [S_R; S_L]): with S = [S_R; S_L] Q for an
    /// invertible mixing Q of the rows, rowspace(S A) contains rowspace(S_R A), so SCW(S, A) is never worse.
    [<Fact>]
    let ``SCW with any sketch whose row space contains S_R's is never worse than with S_R`` () =
        let case =
            gen {
                let! spec, k, random = ScwCases.withSketch
                let! learned = sketchWithAtLeast 1
                let! seed = seed
                return spec, k, random, learned, seed
            }

        let cases = NonTrivial "had S_R above the optimum"

        forAll case (fun (spec, k, random, learned, seed) ->
            let a = spec.Build()
            let sr, sl = random.Build a.RowCount, learned.Build a.RowCount
            let stacked = Sketch.toMatrix (Sketch.stack [ sr; sl ])
            // An invertible mixing of all rows (Gaussian, so invertible with probability 1): S = Q [S_R; S_L].
            let q = gaussian (Random seed) stacked.RowCount stacked.RowCount
            let mixed = Sketch.ofMatrix (q * stacked)
            let norm = Norm.frobenius a
            let alone = Scw.error k sr a

            // Q's conditioning enters the row space S A that SCW computes; allow for it.
            let condition =
                let s = Dense.singularValues q
                s[0] / s[s.Length - 1]

            atMost
                (medium |> scaledTo (norm * min condition 1e4))
                "||A - SCW(Q [S_R; S_L], A)||_F <= ||A - SCW(S_R, A)||_F"
                (Scw.error k mixed a)
                alone
            |> Prop.label (sprintf "cond(Q) = %.3g" condition)
            |> cases.Classify(alone > Svd.optimalError k a + 1e-8 * norm))
        |> checkNonTrivial 100 50 cases

/// Lemma 4.3 of Clarkson and Woodruff (2009): [A V]_k V^T is the best rank-k matrix whose rows lie in colsp(V).
module BestInSubspace =

    /// V (d x r): the orthonormal basis of the row space of S A that SCW uses, with the same rank threshold.
    let private basis (sketch: Sketch) (a: Matrix<float>) =
        let sa = Sketch.apply a sketch
        let svd = Dense.thinSvd sa
        let r = Dense.numericalRankOf sa.RowCount sa.ColumnCount svd.S

        if r = 0 then
            None
        else
            Some(svd.Vt.SubMatrix(0, r, 0, sa.ColumnCount).Transpose())

    [<Fact>]
    let ``SCW is at least as good as any rank-k X with rows in the row space of S A`` () =
        let case =
            gen {
                let! spec, k, s = ScwCases.withSketch
                let! seed = seed
                // Random X far from the optimum, and perturbations of the optimum at several distances.
                let! perturbation = Gen.elements [ None; Some 1e-6; Some 1e-3; Some 1.0 ]
                return spec, k, s, seed, perturbation
            }

        forAll case (fun (spec, k, s, seed, perturbation) ->
            let a = spec.Build()
            let sketch = s.Build a.RowCount
            let scw = Scw.approximate k sketch a
            let error = Scw.error k sketch a
            let norm = Norm.frobenius a
            let random = Random(seed)

            match basis sketch a with
            | None -> holds "S A = 0 gives the zero approximation" (scw.Rank = 0 && abs (error - norm) <= 1e-12 * norm)
            | Some v ->
                let r = v.ColumnCount
                let inner = Math.Min(k, r)

                let x =
                    match perturbation with
                    | None ->
                        // X = Y V^T with Y = G1 G2 of rank at most `inner`.
                        let y = gaussian random a.RowCount inner * gaussian random inner r
                        (norm / (1.0 + Norm.frobenius y)) * y * v.Transpose()
                    | Some size when scw.Rank > 0 ->
                        // Move the optimum's left factor: rank stays <= k, rows stay in span(Right) within colsp(V).
                        let delta = gaussian random a.RowCount scw.Rank

                        (scw.Left
                         + (size * norm / sqrt (float delta.RowCount * float delta.ColumnCount)) * delta)
                        * scw.Right
                    | Some _ -> Matrix<float>.Build.Dense(a.RowCount, a.ColumnCount)

                let accuracy = medium |> scaledTo norm

                atMost accuracy "||A - SCW(S, A)||_F <= ||A - X||_F" error (Norm.frobenius (a - x))
                |> Prop.label (sprintf "r = %d, rank of SCW = %d" r scw.Rank))
        |> check

    [<Fact>]
    let ``SCW is [A V]_k V^T itself: its rows lie in the row space of S A and its error is that optimum's`` () =
        forAllShrink ScwCases.withSketch Shrink.withSketch (fun (spec, k, s) ->
            let a = spec.Build()
            let sketch = s.Build a.RowCount
            let scw = Scw.approximate k sketch a
            let norm = Norm.frobenius a
            let accuracy = medium |> scaledTo norm

            match basis sketch a with
            | None -> holds "S A = 0 gives the zero approximation" (scw.Rank = 0)
            | Some v ->
                // The true optimum within the row space: [A V]_k V^T (Algorithm 1's definition). An SCW that ignored
                // the sketch and returned [A]_k would beat it whenever the sketch misses part of A's top row space.
                let av = a * v

                let best =
                    (Svd.bestRankK (min k (min av.RowCount av.ColumnCount)) av).ToMatrix()
                    * v.Transpose()

                let outside = scw.Right - scw.Right * v * v.Transpose()

                all [
                    close
                        accuracy
                        "||A - SCW(S, A)||_F = ||A - [A V]_k V^T||_F"
                        (Scw.error k sketch a)
                        (Norm.frobenius (a - best))
                    close (medium |> scaledTo 1.0) "rows of SCW in rowspace(S A)" (Norm.frobenius outside) 0.0
                ]
                |> Prop.label (sprintf "rank(S A) = %d, rank of SCW = %d" v.ColumnCount scw.Rank))
        |> check

    /// On tall matrices (4096+ rows, where [A V]_k comes from the Gram matrix of A V while A V is well conditioned, and
    /// A given by rows uses the row-major kernels), SCW and SCW with power iterations are still [A V_q]_k V_q^T: the
    /// error is that optimum's, the singular values are A V's within 1e-10 sigma_1, Right has orthonormal rows and
    /// Left = A Right^T; on graded, tied and ill-conditioned spectra (up to cond 1e14, where the Gram matrix is declined).
    [<Fact>]
    let ``on tall matrices SCW is [A V]_k V^T itself, by columns and by rows`` () =
        let cases =
            gen {
                let! rows = Gen.choose (4096, 4200)
                let! columns = Gen.choose (20, 60)
                let! rank = Gen.choose (1, columns)
                let! spec = spectrumOfShape rows columns rank
                let! k = Gen.choose (1, 10)
                let! m = Gen.choose (k, k + 20)
                let! seed = seed
                return spec, k, m, seed
            }

        forAll cases (fun (spec, k, m, seed) ->
            let a = spec.Build()
            let sketch = Sketch.countSketch seed m a.RowCount
            let norm = Norm.frobenius a
            let accuracy = medium |> scaledTo norm
            let scw = Scw.approximate k sketch a
            let byRows = Scw.approximateTransposedWithPower 0 k sketch (a.Transpose())

            match basis sketch a with
            | None -> holds "S A = 0 gives the zero approximation" (scw.Rank = 0 && byRows.Rank = 0)
            | Some v ->
                let av = a * v
                let kept = min k (min av.RowCount av.ColumnCount)
                let best = Svd.bestRankK kept av
                let optimum = Norm.frobenius (a - best.ToMatrix() * v.Transpose())
                let sigma = Svd.singularValues av
                let top = if sigma.Length > 0 then sigma[0] else 0.0

                let laws name (result: LowRankApproximation) =
                    let values = result.SingularValues

                    all [
                        close
                            accuracy
                            $"{name}: error = ||A - [A V]_k V^T||_F"
                            (Norm.frobenius (a - result.ToMatrix()))
                            optimum
                        close
                            (medium |> scaledTo top)
                            $"{name}: singular values are A V's"
                            (Array.init values.Length (fun i -> abs (values[i] - sigma[i]))
                             |> Array.fold max 0.0)
                            0.0
                        close
                            (medium |> scaledTo 1.0)
                            $"{name}: Right Right^T = I"
                            (SvdLaws.orthonormalityDefect result.Right)
                            0.0
                        close
                            accuracy
                            $"{name}: Left = A Right^T"
                            (Norm.frobenius (result.Left - a * result.Right.Transpose()))
                            0.0
                    ]

                all [ laws "by columns" scw; laws "by rows" byRows ]
                |> Prop.label (sprintf "%O, k = %d, m = %d" spec k (Sketch.rows sketch)))
        |> checkWith 30

/// SCW keeps directions with singular values far below the largest: its rank threshold is NumPy's (max(n, d) eps
/// sigma_1), so on a graded spectrum (1, 1e-3, 1e-7, 1e-9, ...) with the identity sketch it is [A]_k to a relative
/// accuracy of the tail, not merely to eps ||A||. A threshold raised to 1e-6 sigma_1 would drop the 1e-7 direction.
module GradedSpectrum =

    [<Fact>]
    let ``SCW with a full-rank sketch attains the optimum on graded spectra, relative to the tail`` () =
        let case =
            gen {
                let! rows = Gen.choose (3, 12)
                let! columns = Gen.choose (3, 12)
                let full = min rows columns
                // Decreasing exponents from 0 down to at most 13 (above the rank threshold of about 1e-14).
                let! steps = Gen.listOfLength (full - 1) (Gen.elements [ 1; 2; 3; 4 ])
                let! k = Gen.choose (1, full - 1)
                let! seed = seed
                let! identity = Gen.elements [ true; false ]
                return rows, columns, steps, k, seed, identity
            }

        forAll case (fun (rows, columns, steps, k, seed, identity) ->
            let full = min rows columns
            let exponents = List.scan (+) 0 steps |> List.map (fun e -> min e 13)
            let random = Random(seed)

            let q (size: int) =
                fst (Dense.qr (gaussian random size full))

            let sigma =
                Matrix<float>
                    .Build.DenseOfDiagonalArray(exponents |> List.map (fun e -> 10.0 ** float -e) |> Array.ofList)

            let a = q rows * sigma * (q columns).Transpose()

            let sketch =
                if identity then
                    Sketch.identity rows
                else
                    Sketch.gaussian seed (rows + 2) rows

            let optimal = Svd.optimalError k a
            let scw = Scw.error k sketch a
            // Rounding contributes about eps sigma_1 (= 2e-16 here); the tail is at least 1e-13.
            let accuracy = { Absolute = 1e-13; Relative = 1e-3 }

            close accuracy "SCW error = optimal error" scw optimal
            |> Prop.label (sprintf "exponents %A, k = %d" exponents k))
        |> check

/// Eckart-Young-Mirsky: no rank-k matrix beats [A]_k, so SCW's error is at least the optimum; with S = I_n it is the
/// optimum.
module EckartYoung =

    [<Fact>]
    let ``SCW error is at least the optimal rank-k error`` () =
        forAllShrink ScwCases.withSketch Shrink.withSketch (fun (spec, k, s) ->
            let a = spec.Build()
            let accuracy = medium |> scaledTo (Norm.frobenius a)

            atMost
                accuracy
                "||A - [A]_k||_F <= ||A - SCW(S, A)||_F"
                (Svd.optimalError k a)
                (Scw.error k (s.Build a.RowCount) a))
        |> check

    /// The theorem itself, against arbitrary competitors: random rank-k X, [A]_k with both factors perturbed at several
    /// sizes (rank k kept), and X sharing [A]_k's row space with another left factor.
    [<Fact>]
    let ``no rank-k X is closer to A than [A]_k`` () =
        let case =
            gen {
                // The SCW cases' matrices and ranks: edge cases, and biting ones with rank(A) > k.
                let! spec, k, _ = ScwCases.withSketch
                let! seed = seed
                let! size = Gen.elements [ 0.0; 1e-8; 1e-4; 1e-1; 10.0 ]
                return spec, k, seed, size
            }

        let cases = NonTrivial "had rank(A) > k (a positive optimum)"

        forAll case (fun (spec, k, seed, size) ->
            let a = spec.Build()
            let norm = Norm.frobenius a
            let best = Svd.bestRankK k a
            let optimum = Svd.optimalError k a
            let random = Random seed
            let perturbed = gaussian random a.RowCount k * gaussian random k a.ColumnCount

            let competitors = [
                "random rank-k X", (norm / (1.0 + Norm.frobenius perturbed)) * perturbed
                "[A]_k with both factors perturbed",
                (best.Left + (size * norm) * gaussian random a.RowCount best.Rank)
                * (best.Right + size * gaussian random best.Rank a.ColumnCount)
                "[A]_k's rows, another left factor",
                (best.Left + size * norm * gaussian random a.RowCount best.Rank) * best.Right
            ]

            competitors
            |> List.map (fun (name, x) ->
                atMost
                    (medium |> scaledTo norm)
                    $"||A - [A]_k||_F <= ||A - X||_F, X {name}"
                    optimum
                    (Norm.frobenius (a - x)))
            |> all
            |> Prop.label (sprintf "perturbation %g" size)
            |> cases.Classify(optimum > 1e-8 * norm))
        |> checkNonTrivial 100 50 cases

    [<Fact>]
    let ``SCW with the identity sketch attains the optimal rank-k error`` () =
        forAllShrink matrixWithRank Shrink.matrixWithRank (fun (spec, k) ->
            let a = spec.Build()
            let accuracy = medium |> scaledTo (Norm.frobenius a)

            close
                accuracy
                "||A - SCW(I, A)||_F = ||A - [A]_k||_F"
                (Scw.error k (Sketch.identity a.RowCount) a)
                (Svd.optimalError k a))
        |> check

/// The factored result's structure and the error identity ||A - [AV]_k V^T||_F^2 = ||A||_F^2 - ||[AV]_k||_F^2.
module ScwLaws =

    [<Fact>]
    let ``SCW factors have orthonormal right rows, Left = A Right^T, and Scw.error measures the formed residual`` () =
        forAllShrink ScwCases.withSketch Shrink.withSketch (fun (spec, k, s) ->
            let a = spec.Build()
            let sketch = s.Build a.RowCount
            let scw = Scw.approximate k sketch a
            let norm = Norm.frobenius a
            let accuracy = medium |> scaledTo norm

            all [
                holds "rank at most k and at most m" (scw.Rank <= k && scw.Rank <= Sketch.rows sketch)
                holds
                    "shapes n x r and r x d"
                    (scw.Left.RowCount = a.RowCount && scw.Right.ColumnCount = a.ColumnCount)
                close (medium |> scaledTo 1.0) "Right Right^T = I" (SvdLaws.orthonormalityDefect scw.Right) 0.0
                close accuracy "Left = A Right^T" (Norm.frobenius (scw.Left - a * scw.Right.Transpose())) 0.0
                close
                    accuracy
                    "Scw.error = ||A - Left Right||_F"
                    (Scw.error k sketch a)
                    (Norm.frobenius (a - scw.ToMatrix()))
            ])
        |> check

    /// A held by rows (given as A^T, as a C-order .npy file lies) gives the approximation A itself gives, up to
    /// rounding: the same error, Right with orthonormal rows, Left = A Right^T, and projectionErrorTransposed and
    /// approximateTransposedWithPowerAndError's error (||A||_F from the sketch's pass) equal to the formed residual's
    /// norm; for every sketch kind, shape (1 x n, tall, wide, rank-deficient, zero), scale and q = 0 .. 3.
    [<Fact>]
    let ``A given by its transpose gives A's approximation and error, with or without power iterations`` () =
        forAll (Gen.zip ScwCases.withSketch (Gen.choose (0, 3))) (fun ((spec, k, s), q) ->
            let a = spec.Build()
            let sketch = s.Build a.RowCount
            let transposed = a.Transpose()
            let byRows = Scw.approximateTransposedWithPower q k sketch transposed

            let struct (measured, measuredError) =
                Scw.approximateTransposedWithPowerAndError q k sketch transposed

            let direct = Scw.approximateWithPower q k sketch a
            let norm = Norm.frobenius a
            let accuracy = medium |> scaledTo norm
            let error = Norm.frobenius (a - byRows.ToMatrix())

            all [
                holds "rank at most k" (byRows.Rank <= k)
                close accuracy $"error = A's own (q = {q})" error (Norm.frobenius (a - direct.ToMatrix()))
                close (medium |> scaledTo 1.0) "Right Right^T = I" (SvdLaws.orthonormalityDefect byRows.Right) 0.0
                close accuracy "Left = A Right^T" (Norm.frobenius (byRows.Left - a * byRows.Right.Transpose())) 0.0
                close
                    accuracy
                    "projectionErrorTransposed = ||A - Left Right||_F"
                    (Scw.projectionErrorTransposed transposed byRows)
                    error
                holds
                    "approximateTransposedWithPowerAndError's approximation is the same"
                    (measured.Left.Equals byRows.Left && measured.Right.Equals byRows.Right)
                close accuracy "and its error = ||A - Left Right||_F" measuredError error
            ])
        |> check

    [<Fact>]
    let ``test error is nonnegative, zero for the identity sketch, and invariant to scaling when normalised`` () =
        let case =
            gen {
                let! rows, columns = shape

                let! specs =
                    Gen.nonEmptyListOf (matrixOfShape rows columns) |> Gen.map (List.truncate 4)

                let! k = Gen.choose (1, min rows columns)
                let! sketch = sketchWithAtLeast k
                let! factor = Gen.elements [ 1e-3; 7.0; 1e5 ]
                return specs, k, sketch, factor
            }

        forAll case (fun (specs, k, s, factor) ->
            let test = specs |> List.map (fun spec -> spec.Build())
            let n = test.Head.RowCount
            let sketch = s.Build n
            let scaleOfSet = test |> List.sumBy Norm.frobenius
            let raw = Scw.testError Normalization.None k sketch test
            let normalised = Scw.testError Normalization.TopSingularValue k sketch test

            let rescaled =
                Scw.testError Normalization.TopSingularValue k sketch (test |> List.map (fun a -> factor * a))

            let exact = Scw.testError Normalization.None k (Sketch.identity n) test

            all [
                atMost (medium |> scaledTo scaleOfSet) "0 <= Err(Te, S)" 0.0 raw
                close (medium |> scaledTo scaleOfSet) "Err(Te, I) = 0" exact 0.0
                close (medium |> scaledTo (float test.Length)) "normalised error ignores scale" rescaled normalised
            ])
        |> check

    [<Fact>]
    let ``test residuals are the mean norms of each residual, and the Frobenius one minus the optimum is Err(Te, S)``
        ()
        =
        let case =
            gen {
                let! rows, columns = shape

                let! specs =
                    Gen.nonEmptyListOf (matrixOfShape rows columns) |> Gen.map (List.truncate 4)

                let! k = Gen.choose (1, min rows columns)
                let! sketch = sketchWithAtLeast k
                let! normalise = Gen.elements [ false; true ]
                return specs, k, sketch, normalise
            }

        forAll case (fun (specs, k, s, normalise) ->
            let test = specs |> List.map (fun spec -> spec.Build())
            let sketch = s.Build test.Head.RowCount

            let normalization =
                if normalise then
                    Normalization.TopSingularValue
                else
                    Normalization.None

            let means =
                Scw.testResiduals
                    normalization
                    k
                    sketch
                    [ Norm.frobenius; (fun r -> 2.0 * Norm.frobenius r); Norm.vNorm ]
                    test

            // Each matrix scaled as the normalization says, then its residual formed and measured directly.
            let scaled =
                test
                |> List.map (fun a ->
                    let top = (Svd.singularValues a)[0]
                    if normalise && top > 0.0 then a / top else a)

            let residuals =
                scaled |> List.map (fun a -> a - (Scw.approximate k sketch a).ToMatrix())

            let optimum = scaled |> List.averageBy (fun a -> Svd.optimalError k a)

            let scale = scaled |> List.averageBy Norm.frobenius

            all [
                close (medium |> scaledTo scale) "mean ||R||_F" means[0] (residuals |> List.averageBy Norm.frobenius)
                close (high |> scaledTo scale) "the second norm is twice the first" means[1] (2.0 * means[0])
                close (medium |> scaledTo scale) "mean ||R||_v" means[2] (residuals |> List.averageBy Norm.vNorm)
                close
                    (medium |> scaledTo scale)
                    "mean ||R||_F - mean optimum = Err(Te, S)"
                    (means[0] - optimum)
                    (Scw.testError normalization k sketch test)
            ])
        |> check
