namespace LowRank.Properties

open FsCheck.FSharp
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing
open LowRank.Testing.Generators
open LowRank.Properties.Runner

/// Lemma 2.1 of Woodruff and Yasuda (2024): rank(W o A') <= rank(W) rank(A'), the reason a rank r k approximation of
/// W o A, divided entrywise by W, is at least as good as any rank-k matrix.
module WeightedRankBound =

    let private anyShape =
        gen {
            let! rows, columns = shape
            let! w = matrixOfShape rows columns
            let! a = matrixOfShape rows columns
            return w, a
        }

    /// Both ranks positive and rank(W) rank(A') < min(n, d): the bound is not implied by the shape.
    let private biting =
        gen {
            let! r = Gen.choose (1, 3)
            let! k = Gen.choose (1, 3)
            let! rows = Gen.choose (r * k + 1, r * k + 10)
            let! columns = Gen.choose (r * k + 1, r * k + 10)
            let! w = matrixOfShape rows columns
            let! a = matrixOfShape rows columns
            return { w with Rank = r }, { a with Rank = k }
        }

    let private case = Gen.frequency [ 1, anyShape; 2, biting ]

    [<Fact>]
    let ``rank of the Hadamard product is at most the product of the ranks`` () =
        let cases = NonTrivial "had 0 < rank(W) rank(A') < min(n, d)"

        forAll case (fun (w, a) ->
            let product = Svd.numericalRank ((w.Build()).PointwiseMultiply(a.Build()))

            holds
                (sprintf "rank(W o A') = %d <= rank(W) rank(A') = %d * %d" product w.Rank a.Rank)
                (product <= w.Rank * a.Rank)
            |> cases.Classify(w.Rank > 0 && a.Rank > 0 && w.Rank * a.Rank < min w.Rows w.Columns))
        |> checkNonTrivial 100 50 cases

    [<Fact>]
    let ``the bound is tight for generic factors: rank(W o A') = min(n, d, rank(W) rank(A'))`` () =
        // Generic (Gaussian-factor) matrices of positive rank; the zero case is covered above.
        let tight =
            case
            |> Gen.map (fun (w, a) -> { w with Rank = max 1 w.Rank }, { a with Rank = max 1 a.Rank })

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

    /// Section 3 of Woodruff and Yasuda (2024): the rank r k of Theorem 1.2 cannot be lowered. With W a block-diagonal
    /// mask of r blocks, each at least k x k, and A' a generic rank-k matrix, W o A' is block diagonal with r blocks of
    /// rank k, so rank(W o A') = r k exactly: an algorithm that approximated W o A at rank below r k would miss the
    /// weighted optimum A' itself.
    [<Fact>]
    let ``a block mask of r blocks lifts a generic rank-k matrix to rank exactly r k`` () =
        let case =
            gen {
                let! r = Gen.choose (1, 4)
                let! k = Gen.choose (1, 3)
                let! rowSizes = Gen.arrayOfLength r (Gen.choose (k, k + 3))
                let! columnSizes = Gen.arrayOfLength r (Gen.choose (k, k + 3))
                let! seed = seed
                return r, k, rowSizes, columnSizes, seed
            }

        forAll case (fun (r, k, rowSizes, columnSizes, seed) ->
            let mask = Weights.blockMask rowSizes columnSizes
            let w = Weights.dense mask
            let random = System.Random seed
            let a = gaussian random w.RowCount k * gaussian random k w.ColumnCount
            let rank = Svd.numericalRank (w.PointwiseMultiply a)

            all [
                holds $"rank(W) = r = {r}" (Weights.rank mask = r)
                holds $"rank(W o A') = {rank} = r k = {r * k}" (rank = r * k)
            ])
        |> check
