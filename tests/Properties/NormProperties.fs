/// Norm axioms for ||.||_F, ||.||_v and ||.||_{W,F}: nonnegativity, absolute homogeneity, the triangle inequality and
/// definiteness (for W,F only when every weight is positive; otherwise exactly a seminorm).
module LowRank.Properties.NormAxioms

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

let private scalar = Gen.elements [ 0.0; -1.0; 2.5; -1e-3; 1e5 ]

/// The axioms for one norm on a pair of generated matrices and a scalar.
let private axioms (norm: Matrix<float> -> float) (a: Matrix<float>) (b: Matrix<float>) (c: float) =
    let na, nb = norm a, norm b
    let accuracy = high |> scaledTo (na + nb)

    all [
        holds "nonnegative" (na >= 0.0 && nb >= 0.0)
        close accuracy "||cA|| = |c| ||A||" (norm (c * a)) (abs c * na)
        atMost accuracy "||A + B|| <= ||A|| + ||B||" (norm (a + b)) (na + nb)
        holds "||A|| = 0 exactly when A = 0" ((na = 0.0) = (Dense.storedValues a |> Array.forall ((=) 0.0)))
    ]

/// How the second matrix of a pair relates to the first.
type Relation =
    /// Built from its own spec.
    | Independent
    /// B = t A + 1e-9 ||A|| G: the triangle inequality is within rounding of equality for t > 0.
    | NearlyCollinear of t: float
    /// B's spec restricted to the entries where A is 0 and A's to the others (checkerboard), so supports are disjoint.
    | DisjointSupport

/// Two matrices of one shape and their relation.
let private related: Gen<(MatrixSpec * MatrixSpec) * Relation> =
    Gen.zip
        matrixPair
        (Gen.frequency [
            2, Gen.constant Independent
            2, Gen.elements [ 1.0; 3.0; 1e-3 ] |> Gen.map NearlyCollinear
            1, Gen.constant DisjointSupport
        ])

let private buildRelated ((a: MatrixSpec, b: MatrixSpec), relation) =
    let a, b = a.Build(), b.Build()

    match relation with
    | Independent -> a, b
    | NearlyCollinear t ->
        let scale = 1e-9 * Norm.frobenius a / (1.0 + Norm.frobenius b)
        a, t * a + scale * b
    | DisjointSupport ->
        a.MapIndexed(fun i j x -> if (i + j) % 2 = 0 then x else 0.0),
        b.MapIndexed(fun i j x -> if (i + j) % 2 = 1 then x else 0.0)

let private pairWithScalar = Gen.zip related scalar

[<Fact>]
let ``Frobenius norm is nonnegative, homogeneous, subadditive and definite`` () =
    forAll pairWithScalar (fun (pair, c) -> buildRelated pair ||> fun a b -> axioms Norm.frobenius a b c)
    |> check

[<Fact>]
let ``V-norm is nonnegative, homogeneous, subadditive and definite`` () =
    forAll pairWithScalar (fun (pair, c) -> buildRelated pair ||> fun a b -> axioms Norm.vNorm a b c)
    |> check

[<Fact>]
let ``Frobenius and V-norms are their defining sums, and ||A||_v / sqrt n <= ||A||_F <= ||A||_v`` () =
    forAll matrix (fun spec ->
        let a = spec.Build()
        let f, v = Norm.frobenius a, Norm.vNorm a
        let direct = sqrt (a.Enumerate() |> Seq.sumBy (fun x -> x * x))
        // The V-norm's definition: the sum over rows of their 2-norms (the L2,1 norm).
        let rowSums =
            a.EnumerateRows()
            |> Seq.sumBy (fun row -> sqrt (row |> Seq.sumBy (fun x -> x * x)))

        let accuracy = high |> scaledTo f

        all [
            close accuracy "||A||_F = sqrt(sum A_ij^2)" f direct
            close (high |> scaledTo v) "||A||_v = sum_i sqrt(sum_j A_ij^2)" v rowSums
            atMost accuracy "||A||_F <= ||A||_v" f v
            atMost accuracy "||A||_v <= sqrt(n) ||A||_F" v (sqrt (float a.RowCount) * f)
        ])
    |> check

/// Weights of the shape, with a fraction of exact zeros (possibly none) and positive entries spread over decades.
type WeightSpec = {
    Seed: int
    ZeroFraction: float
} with

    member w.Build(rows: int, columns: int) =
        let random = Random(w.Seed)

        Matrix<float>
            .Build.Dense(
                rows,
                columns,
                fun _ _ ->
                    if random.NextDouble() < w.ZeroFraction then
                        0.0
                    else
                        Math.Pow(10.0, 4.0 * random.NextDouble() - 2.0)
            )

let private weights =
    gen {
        let! seed = seed
        let! zeros = Gen.elements [ 0.0; 0.0; 0.3; 0.8 ]
        return { Seed = seed; ZeroFraction = zeros }
    }

[<Fact>]
let ``Weighted Frobenius norm is nonnegative, homogeneous and subadditive, and definite when every weight is positive``
    ()
    =
    forAll (Gen.zip3 related scalar weights) (fun (pair, c, w) ->
        let a, b = buildRelated pair
        let w = w.Build(a.RowCount, a.ColumnCount)
        let norm = Norm.weightedFrobenius w
        let positive = Dense.storedValues w |> Array.forall (fun x -> x > 0.0)

        let definite =
            if positive then
                [
                    holds "definite with positive weights" ((norm a = 0.0) = (a.ForAll(fun x -> x = 0.0)))
                ]
            else
                []

        let na, nb = norm a, norm b
        let accuracy = high |> scaledTo (na + nb)

        all (
            [
                holds "nonnegative" (na >= 0.0)
                close accuracy "||cA||_W = |c| ||A||_W" (norm (c * a)) (abs c * na)
                atMost accuracy "||A + B||_W <= ||A||_W + ||B||_W" (norm (a + b)) (na + nb)
                close accuracy "||A||_W = ||W o A||_F" na (Norm.frobenius (w.PointwiseMultiply a))
            ]
            @ definite
        ))
    |> check

[<Fact>]
let ``Weighted Frobenius norm with a zero weight is only a seminorm: it vanishes on matrices supported there`` () =
    forAll (Gen.zip nonzeroMatrix weights) (fun (spec, w) ->
        let w = w.Build(spec.Rows, spec.Columns)
        // Force at least one zero weight, then put A's mass only where the weight is zero.
        w[spec.Rows - 1, 0] <- 0.0
        let a = spec.Build()

        let supportedOnZeros =
            a.MapIndexed(fun i j x -> if w[i, j] = 0.0 then x + 1.0 else 0.0)

        let supportedOnPositives =
            a.MapIndexed(fun i j x -> if w[i, j] > 0.0 then x else 0.0)

        let positiveNorm = Norm.weightedFrobenius w supportedOnPositives > 0.0
        let positiveSupportIsNonzero = not (supportedOnPositives.ForAll(fun x -> x = 0.0))

        all [
            holds "nonzero A on the zero weights has norm exactly 0" (Norm.weightedFrobenius w supportedOnZeros = 0.0)
            holds
                "A nonzero somewhere with positive weight has positive norm"
                (positiveNorm = positiveSupportIsNonzero)
        ])
    |> check

[<Fact>]
let ``The squared-weight convention sum w_ij A_ij^2 is the weighted Frobenius norm with W = sqrt w`` () =
    forAll (Gen.zip matrix weights) (fun (spec, w) ->
        let a = spec.Build()
        let w = w.Build(spec.Rows, spec.Columns)

        let direct =
            sqrt (Seq.map2 (fun x y -> x * y * y) (w.Enumerate()) (a.Enumerate()) |> Seq.sum)

        let norm = Norm.weightedFrobenius (Norm.sqrtWeights w) a
        close (high |> scaledTo direct) "||A||_{sqrt w, F} = sqrt(sum w A^2)" norm direct)
    |> check

[<Fact>]
let ``Norms neither overflow nor underflow at the ends of the double range`` () =
    forAll (Gen.zip matrix (Gen.elements [ 1e-300; 1e-160; 1e160; 1e300 ])) (fun (spec, tiny) ->
        let a = spec.Build()
        let f = Norm.frobenius a

        if f = 0.0 then
            holds "zero stays zero" (Norm.frobenius (tiny * a) = 0.0)
        else
            let scaled = tiny * (a / f)
            // Entries of a / f are at most 1 in size, so tiny * (a / f) is representable whatever its norm.
            let accuracy = high |> scaledTo 0.0

            all [
                close accuracy "||t A / ||A||_F||_F = t" (Norm.frobenius scaled / tiny) 1.0
                close accuracy "||t A||_v / t = ||A||_v" (Norm.vNorm scaled / tiny) (Norm.vNorm (a / f))
            ])
    |> check
