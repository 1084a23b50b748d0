namespace LowRank.Properties

open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing
open LowRank.Testing.Generators
open LowRank.Properties.Runner

/// Truncated SVD: [A]_k's factors have the documented structure and its error is the tail of the singular values.
module SvdLaws =

    /// ||Q Q^T - I||_F for a matrix with orthonormal rows expected; 0 when there are no rows.
    let orthonormalityDefect (rows: Matrix<float>) =
        if rows.RowCount = 0 then
            0.0
        else
            Norm.frobenius (rows * rows.Transpose() - Matrix<float>.Build.DenseIdentity rows.RowCount)

    [<Fact>]
    let ``best rank-k approximation has orthonormal right factor, Left = A Right^T and error equal to the tail`` () =
        forAllShrink matrixWithRank Shrink.matrixWithRank (fun (spec, k) ->
            let a = spec.Build()
            let best = Svd.bestRankK k a
            let norm = Norm.frobenius a
            let accuracy = medium |> scaledTo norm

            all [
                holds "rank k" (best.Rank = k && best.Left.ColumnCount = k && best.Right.RowCount = k)
                close (medium |> scaledTo 1.0) "Right Right^T = I" (orthonormalityDefect best.Right) 0.0
                close accuracy "Left = A Right^T" (Norm.frobenius (best.Left - a * best.Right.Transpose())) 0.0
                close
                    accuracy
                    "||A - [A]_k||_F = optimal error"
                    (Norm.frobenius (a - best.ToMatrix()))
                    (Svd.optimalError k a)
            ])
        |> check

    /// On prescribed spectra (graded down to 1e-3 per step, tied, condition up to 1e14) the singular values come back
    /// to rounding relative to sigma_1, so the optimal error is the prescribed tail; tied values make [A]_k's subspace
    /// non-unique but not its error.
    [<Fact>]
    let ``singular values and optimal errors of graded, tied and ill-conditioned spectra are the prescribed ones`` () =
        forAllShrink Generators.spectrumMatrix Shrink.spectrumMatrix (fun spec ->
            let a = spec.Build()
            let prescribed = spec.SingularValues
            let found = Svd.singularValues a
            let top = if prescribed.Length = 0 then 0.0 else prescribed[0]
            let accuracy = medium |> scaledTo top

            all [
                holds "min(n, d) of them" (found.Length = prescribed.Length)
                all (List.init found.Length (fun i -> close accuracy $"sigma_{i + 1}" found[i] prescribed[i]))
                all (
                    List.init (prescribed.Length + 1) (fun k ->
                        let tail = sqrt (prescribed[k..] |> Array.sumBy (fun x -> x * x))

                        if k = 0 then
                            close accuracy "||A||_F = sqrt(sum sigma_i^2)" (Norm.frobenius a) tail
                        else
                            close accuracy $"optimal rank-{k} error = tail" (Svd.optimalError k a) tail)
                )
            ])
        |> check

    [<Fact>]
    let ``numerical rank of a generated matrix is its construction rank`` () =
        forAllShrink matrix Shrink.matrix (fun spec ->
            let rank = Svd.numericalRank (spec.Build())
            holds (sprintf "numerical rank %d = constructed rank %d" rank spec.Rank) (rank = spec.Rank))
        |> check

    [<Fact>]
    let ``singular values are descending, nonnegative and their squares sum to the squared Frobenius norm`` () =
        forAllShrink matrix Shrink.matrix (fun spec ->
            let a = spec.Build()
            let s = Svd.singularValues a
            let norm = Norm.frobenius a

            all [
                holds "min(n, d) of them" (s.Length = min a.RowCount a.ColumnCount)
                holds
                    "descending and nonnegative"
                    (s |> Array.pairwise |> Array.forall (fun (x, y) -> x >= y)
                     && Array.last s >= 0.0)
                close (medium |> scaledTo norm) "sqrt(sum sigma^2) = ||A||_F" (Dense.twoNorm s) norm
            ])
        |> check

/// Scaling A by c scales every singular value, and SCW's error, by |c| (the SVD and SCW are positively homogeneous),
/// on every backend and for c from 1e-300 to 1e300: the factorizations scale their input as LAPACK's drivers do, so
/// neither overflow nor underflow (nor MathNet's managed SVD losing accuracy far from 1) changes the answer.
module ScaleEquivariance =

    [<Fact>]
    let ``singular values and SCW's error scale with A from 1e-300 to 1e300`` () =
        let case =
            gen {
                let! spec, k = matrixWithRank
                let! sketch = sketchWithAtLeast k
                let! c = Gen.elements [ 1e-300; 1e-160; 1e-20; 1e20; 1e155; 1e300 ]
                return spec, k, sketch, c
            }

        forAll case (fun (spec, k, sketch, c) ->
            let a = spec.Build()
            let s = sketch.Build a.RowCount
            let values = Svd.singularValues a
            let scaled = Svd.singularValues (c * a)
            let top = if values.Length = 0 then 0.0 else values[0]
            let error = Scw.error k s a

            // Relative to the largest singular value: small ones carry absolute, not relative, rounding.
            [
                for i in 0 .. values.Length - 1 ->
                    close
                        (medium |> scaledTo top)
                        $"sigma_{i + 1}(c A) / c = sigma_{i + 1}(A)"
                        (scaled[i] / c)
                        values[i]
            ]
            @ [
                close
                    (medium |> scaledTo (Norm.frobenius a))
                    "SCW error(c A) / c = SCW error(A)"
                    (Scw.error k s (c * a) / c)
                    error
            ]
            |> all)
        |> check
