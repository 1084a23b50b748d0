namespace LowRank.Properties

open System.Linq
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

/// Motion weights are what their documentation says: at least 1, mean 2 when a pixel moves, the per-pixel deviation
/// recomputed from the frames, and blind to a video's brightness and contrast.
module MotionWeightLaws =

    [<Fact>]
    let ``motion weights are 1 + s / mean(s), mean 2 when a pixel moves, and blind to brightness and contrast`` () =
        let case =
            gen {
                let! n, d = shape
                let! count = Gen.choose (1, 5)
                // Frames of any rank and scale, zero included; `still` repeats the first frame (nothing moves).
                let! frames = Gen.listOfLength count (matrixOfShape n d)
                let! still = Gen.elements [ false; false; true ]
                let! shift = Gen.elements [ 0.0; -3.5; 1e3 ]
                let! factor = Gen.elements [ 1.0; 0.25; 1e4 ]
                return frames, still, shift, factor
            }

        forAll case (fun (specs, still, shift, factor) ->
            let built = specs |> List.map (fun s -> s.Build()) |> List.toArray
            let frames = if still then Array.map (fun _ -> built[0]) built else built
            let w = Video.motionWeights frames
            let n, d = frames[0].RowCount, frames[0].ColumnCount

            // s_ij by its definition, pixel by pixel.
            let s =
                Matrix<float>
                    .Build.Dense(
                        n,
                        d,
                        fun i j ->
                            let values = frames |> Array.map (fun f -> f[i, j])
                            let mean = Array.average values
                            sqrt (values |> Array.averageBy (fun x -> (x - mean) ** 2.0))
                    )

            let average = s.Enumerate() |> Seq.average

            let largest =
                frames
                |> Array.map (fun f -> f.Enumerate() |> Seq.map abs |> Seq.max)
                |> Array.max
            // Well clear of the rounding threshold, so both computations agree that something moves.
            let moved = average > 1e-10 * largest
            // s carries rounding of eps |F| per entry, W of that over mean(s); after c F + t, of eps (|t| + c |F|).
            let tolerance =
                1e3 * 2.2e-16 * (largest + (abs shift + factor * largest) / factor)
                / (average + 1e-300)

            let transformed =
                Video.motionWeights (frames |> Array.map (fun f -> f.Map(fun x -> factor * x + shift)))

            all [
                holds "W is n x d" (w.RowCount = n && w.ColumnCount = d)
                holds "W >= 1" (w.Enumerate() |> Seq.forall (fun x -> x >= 1.0))
                (if moved then
                     all [
                         close medium "mean(W)" (w.Enumerate() |> Seq.average) 2.0
                         atMost
                             {
                                 Absolute = tolerance + 1e-13 * w.Enumerate().Max()
                                 Relative = 0.0
                             }
                             "||W - (1 + s / mean s)||_max"
                             ((w - s.Map(fun x -> 1.0 + x / average)).Enumerate() |> Seq.map abs |> Seq.max)
                             0.0
                         atMost
                             {
                                 Absolute = tolerance + 1e-13 * w.Enumerate().Max()
                                 Relative = 0.0
                             }
                             "||W(c F + t) - W(F)||_max"
                             ((transformed - w).Enumerate() |> Seq.map abs |> Seq.max)
                             0.0
                     ]
                 elif still then
                     holds "nothing moves: W = 1" (w.Enumerate() |> Seq.forall (fun x -> x = 1.0))
                 else
                     holds "too little motion to compare" true)
            ])
        |> check

/// Theorem 1's adversarial matrices are what their documentation says for any sketch, rank-deficient ones included.
module HiddenFromLaws =

    [<Fact>]
    let ``a matrix hidden from a sketch has 1e-3 of its hidden part's norm in the sketch's row space, and is fixed by the seed``
        ()
        =
        let case =
            gen {
                let! n, d = shape
                let! m = Gen.choose (1, n + 2)
                let! rows = matrixOfShape m n |> Gen.map (fun s -> { s with Rank = max 1 s.Rank })
                let! k = Gen.choose (1, 4)
                let! noise = Gen.elements [ 0.0; 0.1; 2.0 ]
                let! s = seed
                return rows, d, k, noise, s
            }

        forAll case (fun (rows, d, k, noise, s) ->
            let l = rows.Build()
            let n = l.ColumnCount
            let a = Synthetic.hiddenFrom s 2 [| noise |] k d l |> fun sets -> sets[0][1]
            let again = Synthetic.hiddenFrom s 2 [| noise |] k d l |> fun sets -> sets[0][1]
            // An orthonormal basis of L's row space from its SVD (not the pseudo-inverse the function uses).
            let svd = l.Svd(true)
            let r = svd.S |> Seq.filter (fun x -> x > 1e-10 * svd.S[0]) |> Seq.length
            let basis = svd.VT.SubMatrix(0, r, 0, n).Transpose()
            let inside = basis * (basis.TransposeThisAndMultiply a)
            let outside = a - inside
            let scale = a.FrobeniusNorm() + 1e-300

            all [
                holds "A is n x d" (a.RowCount = n && a.ColumnCount = d)
                holds "the same seed gives the same matrix" (a.Equals again)
                (if outside.FrobeniusNorm() > 1e-8 * scale then
                     close
                         {
                             Absolute = 1e-8 * scale
                             Relative = 1e-8
                         }
                         "||decoy|| = 1e-3 ||the hidden part||"
                         (inside.FrobeniusNorm())
                         (1e-3 * outside.FrobeniusNorm())
                 else
                     holds "L sees all of R^n: nothing is hidden" (r = n))
            ])
        |> check
