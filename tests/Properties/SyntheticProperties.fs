namespace LowRank.Properties

open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing.Generators
open LowRank.Properties.Runner

/// The generated data sets are what their documentation says, at every shape.
module SyntheticLaws =

    [<Fact>]
    let ``a weighted problem has positive weights of the asked rank, and one seed gives one problem`` () =
        let case =
            gen {
                let! n, d = shape
                let! r = Gen.choose (1, 4)
                let! s = seed
                return n, d, r, s
            }

        forAll case (fun (n, d, r, s) ->
            let a, w = Synthetic.weightedProblem s n d r
            let again, _ = Synthetic.weightedProblem s n d r
            let singular = Svd.singularValues w
            let rank = Dense.numericalRankOf n d singular

            all [
                holds "A and W are n x d" (a.RowCount = n && a.ColumnCount = d && w.RowCount = n && w.ColumnCount = d)
                holds
                    "W > 0 and A finite"
                    (w.Enumerate() |> Seq.forall (fun x -> x > 0.0)
                     && Guard.allFinite (a.ToColumnMajorArray()))
                // Sums of r positive outer products with independent profiles: rank r where the shape allows it.
                holds
                    (sprintf "rank(W) = %d, expected min(r, n, d) = %d" rank (min r (min n d)))
                    (rank = min r (min n d))
                holds "the same seed gives the same A" (a.Equals again)
            ])
        |> check
