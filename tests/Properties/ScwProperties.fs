namespace LowRank.Properties

open System
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Properties.Generators
open LowRank.Properties.Runner

/// A matrix, a valid rank k and a sketch with at least k rows: every input SCW accepts.
module ScwCases =
    let withSketch: Gen<MatrixSpec * int * SketchSpec> =
        gen {
            let! spec, k = matrixWithRank
            let! sketch = sketchWithAtLeast k
            return spec, k, sketch
        }

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

        forAll case (fun (spec, k, s1, s2, s1First) ->
            let a = spec.Build()
            let first, second = s1.Build a.RowCount, s2.Build a.RowCount
            let mixed = Sketch.stack (if s1First then [ first; second ] else [ second; first ])
            let accuracy = medium |> scaledTo (Norm.frobenius a)

            atMost
                accuracy
                "||A - SCW([S1; S2], A)||_F <= ||A - SCW(S1, A)||_F"
                (Scw.error k mixed a)
                (Scw.error k first a))
        |> check

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
        forAll ScwCases.withSketch (fun (spec, k, s) ->
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
        forAll ScwCases.withSketch (fun (spec, k, s) ->
            let a = spec.Build()
            let accuracy = medium |> scaledTo (Norm.frobenius a)

            atMost
                accuracy
                "||A - [A]_k||_F <= ||A - SCW(S, A)||_F"
                (Svd.optimalError k a)
                (Scw.error k (s.Build a.RowCount) a))
        |> check

    [<Fact>]
    let ``SCW with the identity sketch attains the optimal rank-k error`` () =
        forAll matrixWithRank (fun (spec, k) ->
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
        forAll ScwCases.withSketch (fun (spec, k, s) ->
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
