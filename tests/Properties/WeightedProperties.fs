namespace LowRank.Properties

open FsCheck.FSharp
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Properties.Generators
open LowRank.Properties.Runner

/// Lemma 2.1 of Woodruff and Yasuda (2024): rank(W o A') <= rank(W) rank(A'), the reason a rank r k approximation of
/// W o A, divided entrywise by W, is at least as good as any rank-k matrix.
module WeightedRankBound =

    let private case =
        gen {
            let! rows, columns = shape
            let! w = matrixOfShape rows columns
            let! a = matrixOfShape rows columns
            return w, a
        }

    [<Fact>]
    let ``rank of the Hadamard product is at most the product of the ranks`` () =
        forAll case (fun (w, a) ->
            let product = Svd.numericalRank ((w.Build()).PointwiseMultiply(a.Build()))

            holds
                (sprintf "rank(W o A') = %d <= rank(W) rank(A') = %d * %d" product w.Rank a.Rank)
                (product <= w.Rank * a.Rank))
        |> check

    [<Fact>]
    let ``the bound is tight for generic factors: rank(W o A') = min(n, d, rank(W) rank(A'))`` () =
        let tight =
            gen {
                let! rows, columns = shape
                let! w = matrixOfShape rows columns
                let! a = matrixOfShape rows columns
                // Generic (Gaussian-factor) matrices of positive rank; the zero case is covered above.
                return { w with Rank = max 1 w.Rank }, { a with Rank = max 1 a.Rank }
            }

        forAll tight (fun (w, a) ->
            let rows, columns = w.Rows, w.Columns
            let product = Svd.numericalRank ((w.Build()).PointwiseMultiply(a.Build()))
            let expected = List.min [ rows; columns; w.Rank * a.Rank ]

            holds
                (sprintf
                    "rank(W o A') = %d, expected min(%d, %d, %d * %d) = %d"
                    product
                    rows
                    columns
                    w.Rank
                    a.Rank
                    expected)
                (product = expected))
        |> check
