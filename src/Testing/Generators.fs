/// FsCheck generators and shrinkers for LowRank's inputs (the LowRank.Testing package). A generated value is a small
/// printable spec (shape, rank, scale, seed) from which the matrix is built deterministically, so a counterexample
/// reads "12x3 rank 2 scale 1000 seed 77" and can be rebuilt exactly with Build(). Dimensions grow with FsCheck's size;
/// the mix of shapes always includes 1x1, 1xn, nx1, tall, wide, square, rank-deficient and all-zero matrices.
///
/// From F#: `Prop.forAll (Arb.fromGenShrink (Generators.matrixWithRank, Shrink.matrixWithRank)) (fun (spec, k) -> ...)`
/// or `Generators.forAllShrink`. From C#: `Prop.ForAll(Arbitraries.MatrixWithRank, t => ...)` with the Arbitrary
/// values of the Arbitraries class, which carry the shrinkers.
namespace LowRank.Testing

open System
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

/// Standard normal draws, the building block of every generated matrix (Generators.normal and gaussian).
module internal Draw =
    let normal (random: Random) =
        let u1 = 1.0 - random.NextDouble()
        sqrt (-2.0 * log u1) * cos (2.0 * Math.PI * random.NextDouble())

    let gaussian (random: Random) rows columns =
        Matrix<float>.Build.Dense(rows, columns, fun _ _ -> normal random)

/// A rows x columns matrix of rank exactly `Rank` (with probability 1), entries of order `Scale`.
type MatrixSpec = {
    Rows: int
    Columns: int
    Rank: int
    Scale: float
    Seed: int
} with

    member spec.Build() : Matrix<float> =
        let random = Random(spec.Seed)
        let full = min spec.Rows spec.Columns

        if spec.Rank = 0 then
            Matrix<float>.Build.Dense(spec.Rows, spec.Columns)
        elif spec.Rank >= full then
            spec.Scale * Draw.gaussian random spec.Rows spec.Columns
        else
            let left = Draw.gaussian random spec.Rows spec.Rank
            let right = Draw.gaussian random spec.Rank spec.Columns
            (spec.Scale / sqrt (float spec.Rank)) * (left * right)

    override spec.ToString() =
        sprintf "%dx%d rank %d scale %g seed %d" spec.Rows spec.Columns spec.Rank spec.Scale spec.Seed

/// The random sketches a SketchSpec builds.
type SketchKind =
    /// Sketch.countSketch: one random sign per column, in a random row.
    | CountSketch
    /// Sketch.gaussian: dense independent normal entries.
    | Gaussian

/// A random sketch with `Rows` rows; its column count is the matrix's row count, supplied at build time.
type SketchSpec = {
    Kind: SketchKind
    Rows: int
    Seed: int
} with

    member spec.Build(columns: int) : Sketch =
        match spec.Kind with
        | CountSketch -> Sketch.countSketch spec.Seed spec.Rows columns
        | Gaussian -> Sketch.gaussian spec.Seed spec.Rows columns

    override spec.ToString() =
        sprintf "%A %d rows seed %d" spec.Kind spec.Rows spec.Seed

/// How the singular values of a SpectrumSpec matrix fall.
type Spectrum =
    /// sigma_i = scale * ratio^i: graded, each value ratio times the previous one (0 < ratio <= 1).
    | Graded of ratio: float
    /// sigma_i = scale for every i < rank: tied singular values (the top-k subspace is not unique when k < rank).
    | Flat
    /// sigma from scale down to scale / condition, geometrically: ill-conditioned for a large condition.
    | IllConditioned of condition: float

/// A rows x columns matrix U diag(sigma) V^T with Haar-random orthonormal U, V and the singular values its Spectrum
/// prescribes for the first Rank of them (the rest 0), so spectra where the theorems bite (graded, tied,
/// ill-conditioned) can be asked for by name.
type SpectrumSpec = {
    Rows: int
    Columns: int
    Rank: int
    Spectrum: Spectrum
    Scale: float
    Seed: int
} with

    /// The singular values, largest first: Rank of them, then zeros up to min(Rows, Columns).
    member spec.SingularValues: float[] =
        let p = min spec.Rows spec.Columns
        let r = min spec.Rank p

        Array.init p (fun i ->
            if i >= r then
                0.0
            else
                match spec.Spectrum with
                | Graded ratio -> spec.Scale * ratio ** float i
                | Flat -> spec.Scale
                | IllConditioned condition when r > 1 -> spec.Scale * condition ** (-float i / float (r - 1))
                | IllConditioned _ -> spec.Scale)

    /// The matrix, deterministic in the spec.
    member spec.Build() : Matrix<float> =
        let random = Random(spec.Seed)
        let p = min spec.Rows spec.Columns

        let orthonormal size =
            (Draw.gaussian random size p).QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin).Q

        orthonormal spec.Rows
        * Matrix<float>.Build.DiagonalOfDiagonalArray spec.SingularValues
        * (orthonormal spec.Columns).Transpose()

    override spec.ToString() =
        sprintf "%dx%d rank %d %A scale %g seed %d" spec.Rows spec.Columns spec.Rank spec.Spectrum spec.Scale spec.Seed

/// Where a WeightsSpec puts exact zeros.
type ZeroPattern =
    /// Every weight positive.
    | NoZeros
    /// Each weight 0 with this probability, independently.
    | Scattered of fraction: float
    /// The last row and the first column entirely 0 (a pixel or an output that never matters), the rest positive.
    | ZeroRowAndColumn

/// Nonnegative weights W = P Q of rank at most Rank (P, Q with entries uniform in [0.1, 1.1)), then the ZeroPattern's
/// zeros; at least one weight stays positive.
type WeightsSpec = {
    Rows: int
    Columns: int
    Rank: int
    Zeros: ZeroPattern
    Seed: int
} with

    /// The dense weights, deterministic in the spec.
    member spec.Build() : Matrix<float> =
        let random = Random(spec.Seed)

        let uniform rows columns =
            Matrix<float>.Build.Dense(rows, columns, fun _ _ -> 0.1 + random.NextDouble())

        let w = uniform spec.Rows spec.Rank * uniform spec.Rank spec.Columns

        match spec.Zeros with
        | NoZeros -> ()
        | Scattered fraction -> w.MapInplace(fun x -> if random.NextDouble() < fraction then 0.0 else x)
        | ZeroRowAndColumn ->
            if spec.Rows > 1 then
                w.ClearRow(spec.Rows - 1)

            if spec.Columns > 1 then
                w.ClearColumn 0

        if w.ForAll(fun x -> x = 0.0) then
            w[0, 0] <- 1.0

        w

    override spec.ToString() =
        sprintf "%dx%d weights of rank %d, %A, seed %d" spec.Rows spec.Columns spec.Rank spec.Zeros spec.Seed

/// The generators. Each is an FsCheck Gen of a printable spec; pair it with the shrinker of the same name in Shrink.
module Generators =

    /// A standard normal draw by Box-Muller; 1 - NextDouble() is in (0, 1], so the logarithm is finite.
    [<CompiledName("Normal")>]
    let normal (random: Random) = Draw.normal random

    /// A rows x columns matrix of independent standard normal entries.
    [<CompiledName("Gaussian")>]
    let gaussian (random: Random) rows columns = Draw.gaussian random rows columns

    /// (rows, columns) with an explicit mix of shapes; the largest side grows with the size parameter, up to 28.
    let shape: Gen<int * int> =
        Gen.sized (fun size ->
            let big = 3 + size / 4
            let side = Gen.choose (2, big)

            Gen.frequency [
                1, Gen.constant (1, 1)
                2, side |> Gen.map (fun d -> 1, d)
                2, side |> Gen.map (fun n -> n, 1)
                3,
                gen {
                    let! d = Gen.choose (1, big - 1)
                    let! n = Gen.choose (d + 1, 2 * big)
                    return n, d
                }
                3,
                gen {
                    let! n = Gen.choose (1, big - 1)
                    let! d = Gen.choose (n + 1, 2 * big)
                    return n, d
                }
                3, side |> Gen.map (fun n -> n, n)
            ])

    /// A rank for the shape: zero, full, or deficient (1 .. min - 1).
    let rankFor (rows: int) (columns: int) : Gen<int> =
        let full = min rows columns

        Gen.frequency [
            1, Gen.constant 0
            3, Gen.constant full
            (if full > 1 then 3 else 0), Gen.choose (1, max 1 (full - 1))
        ]

    let scale: Gen<float> = Gen.elements [ 1e-3; 1.0; 1e4 ]

    let seed: Gen<int> = Gen.choose (0, Int32.MaxValue)

    /// A matrix of the given shape with a generated rank, scale and seed.
    let matrixOfShape (rows: int) (columns: int) : Gen<MatrixSpec> =
        gen {
            let! rank = rankFor rows columns
            let! scale = scale
            let! seed = seed

            return {
                Rows = rows
                Columns = columns
                Rank = rank
                Scale = scale
                Seed = seed
            }
        }

    let matrix: Gen<MatrixSpec> =
        gen {
            let! rows, columns = shape
            return! matrixOfShape rows columns
        }

    /// A nonzero matrix (rank at least 1).
    let nonzeroMatrix: Gen<MatrixSpec> =
        matrix |> Gen.map (fun spec -> { spec with Rank = max 1 spec.Rank })

    /// Two matrices of one shape.
    let matrixPair: Gen<MatrixSpec * MatrixSpec> =
        gen {
            let! rows, columns = shape
            let! a = matrixOfShape rows columns
            let! b = matrixOfShape rows columns
            return a, b
        }

    /// A sketch with between `least` and least + 6 rows.
    let sketchWithAtLeast (least: int) : Gen<SketchSpec> =
        gen {
            let! kind = Gen.elements [ CountSketch; Gaussian ]
            let! rows = Gen.choose (least, least + 6)
            let! seed = seed

            return {
                Kind = kind
                Rows = rows
                Seed = seed
            }
        }

    /// A matrix with a valid target rank k in [1, min(rows, columns)].
    let matrixWithRank: Gen<MatrixSpec * int> =
        gen {
            let! spec = matrix
            let! k = Gen.choose (1, min spec.Rows spec.Columns)
            return spec, k
        }


    /// A matrix of the given shape, rank and spectrum kind, with generated scale and seed.
    let spectrumOfShape (rows: int) (columns: int) (rank: int) : Gen<SpectrumSpec> =
        gen {
            let! spectrum =
                Gen.elements [
                    Graded 0.5
                    Graded 0.1
                    Graded 1e-3
                    Flat
                    IllConditioned 1e8
                    IllConditioned 1e14
                ]

            let! scale = scale
            let! seed = seed

            return {
                Rows = rows
                Columns = columns
                Rank = rank
                Spectrum = spectrum
                Scale = scale
                Seed = seed
            }
        }

    /// A matrix with a prescribed spectrum: graded, tied or ill-conditioned, of any shape and rank (zero included).
    let spectrumMatrix: Gen<SpectrumSpec> =
        gen {
            let! rows, columns = shape
            let! rank = rankFor rows columns
            return! spectrumOfShape rows columns rank
        }

    /// Weights of the given shape: rank 1 to 3 (at most min(rows, columns)) and every zero pattern.
    let weightsOfShape (rows: int) (columns: int) : Gen<WeightsSpec> =
        gen {
            let! rank = Gen.choose (1, max 1 (min 3 (min rows columns)))

            let! zeros =
                Gen.frequency [
                    2, Gen.constant NoZeros
                    2, Gen.elements [ Scattered 0.3; Scattered 0.8 ] |> Gen.map id
                    1, Gen.constant ZeroRowAndColumn
                ]

            let! seed = seed

            return {
                Rows = rows
                Columns = columns
                Rank = rank
                Zeros = zeros
                Seed = seed
            }
        }

    /// A matrix with weights of its shape.
    let matrixWithWeights: Gen<MatrixSpec * WeightsSpec> =
        gen {
            let! spec = matrix
            let! weights = weightsOfShape spec.Rows spec.Columns
            return spec, weights
        }

    let forAll (generator: Gen<'T>) (body: 'T -> Property) =
        Prop.forAll (Arb.fromGen generator) body


    /// forAll with a shrinker: a failure is reported on the smallest case the shrinker reaches that still fails.
    let forAllShrink (generator: Gen<'T>) (shrink: 'T -> seq<'T>) (body: 'T -> Property) =
        Prop.forAll (Arb.fromGenShrink (generator, shrink)) body

/// Shrinkers: each candidate is a smaller or rounder case that still satisfies its generator's preconditions (k <=
/// min(n, d), a sketch with at least k rows), so a shrunk counterexample is a valid input that still fails, not an
/// argument error. FsCheck tries candidates in order and keeps the first that still fails.
[<RequireQualifiedAccess>]
module Shrink =

    /// Fewer rows or columns (halved, then one less), lower rank, scale 1, seed 0.
    let matrix (spec: MatrixSpec) : seq<MatrixSpec> =
        let resized rows columns = {
            spec with
                Rows = rows
                Columns = columns
                Rank = min spec.Rank (min rows columns)
        }

        seq {
            if spec.Rows > 1 then
                yield resized (max 1 (spec.Rows / 2)) spec.Columns
                yield resized (spec.Rows - 1) spec.Columns

            if spec.Columns > 1 then
                yield resized spec.Rows (max 1 (spec.Columns / 2))
                yield resized spec.Rows (spec.Columns - 1)

            if spec.Rank > 0 then
                yield {
                    spec with
                        Rank = min spec.Rank (min spec.Rows spec.Columns) - 1
                }

            if spec.Scale <> 1.0 then
                yield { spec with Scale = 1.0 }

            if spec.Seed <> 0 then
                yield { spec with Seed = 0 }
        }
        |> Seq.distinct
        |> Seq.filter ((<>) spec)

    /// A matrix and a rank k: the matrix shrinks with k <= min(n, d) kept, and k decreases to 1.
    let matrixWithRank ((spec, k): MatrixSpec * int) : seq<MatrixSpec * int> =
        seq {
            for smaller in matrix spec do
                if k <= min smaller.Rows smaller.Columns then
                    yield smaller, k

            if k > 1 then
                yield spec, k - 1
        }

    /// Fewer rows (at least `least`), a CountSketch instead of a Gaussian one, seed 0.
    let sketch (least: int) (s: SketchSpec) : seq<SketchSpec> =
        seq {
            if s.Rows > least then
                yield { s with Rows = least }
                yield { s with Rows = s.Rows - 1 }

            if s.Kind = Gaussian then
                yield { s with Kind = CountSketch }

            if s.Seed <> 0 then
                yield { s with Seed = 0 }
        }
        |> Seq.distinct
        |> Seq.filter ((<>) s)

    /// SCW's inputs: the matrix and k as above with the sketch's rows kept >= k, then the sketch.
    let withSketch ((spec, k, s): MatrixSpec * int * SketchSpec) : seq<MatrixSpec * int * SketchSpec> =
        seq {
            for smaller, k in matrixWithRank (spec, k) do
                yield smaller, k, s

            for smaller in sketch k s do
                yield spec, k, smaller
        }

    /// Shrinks the first part of a pair and keeps the second (a seed, an option).
    let first (shrink: 'A -> seq<'A>) ((a, b): 'A * 'B) : seq<'A * 'B> = shrink a |> Seq.map (fun a -> a, b)

    /// Fewer rows or columns, lower rank, a milder spectrum (Graded 0.5), scale 1, seed 0.
    let spectrumMatrix (spec: SpectrumSpec) : seq<SpectrumSpec> =
        let resized rows columns = {
            spec with
                Rows = rows
                Columns = columns
                Rank = min spec.Rank (min rows columns)
        }

        seq {
            if spec.Rows > 1 then
                yield resized (spec.Rows - 1) spec.Columns

            if spec.Columns > 1 then
                yield resized spec.Rows (spec.Columns - 1)

            if spec.Rank > 0 then
                yield {
                    spec with
                        Rank = min spec.Rank (min spec.Rows spec.Columns) - 1
                }

            if spec.Spectrum <> Graded 0.5 then
                yield { spec with Spectrum = Graded 0.5 }

            if spec.Scale <> 1.0 then
                yield { spec with Scale = 1.0 }

            if spec.Seed <> 0 then
                yield { spec with Seed = 0 }
        }
        |> Seq.distinct
        |> Seq.filter ((<>) spec)

    /// A matrix and its weights, shrunk together (same shape), then the weights' rank, zeros and seed.
    let matrixWithWeights ((spec, w): MatrixSpec * WeightsSpec) : seq<MatrixSpec * WeightsSpec> =
        seq {
            for smaller in matrix spec do
                yield
                    smaller,
                    {
                        w with
                            Rows = smaller.Rows
                            Columns = smaller.Columns
                            Rank = min w.Rank (min smaller.Rows smaller.Columns)
                    }

            if w.Rank > 1 then
                yield spec, { w with Rank = w.Rank - 1 }

            if w.Zeros <> NoZeros then
                yield spec, { w with Zeros = NoZeros }

            if w.Seed <> 0 then
                yield spec, { w with Seed = 0 }
        }

/// The generators with their shrinkers as FsCheck Arbitrary values, for C#: Prop.ForAll(Arbitraries.MatrixWithRank,
/// t => ...), then QuickCheckThrowOnFailure().
[<AbstractClass; Sealed>]
type Arbitraries =
    /// Any matrix spec: every shape, rank (zero included) and scale.
    static member Matrix = Arb.fromGenShrink (Generators.matrix, Shrink.matrix)

    /// A matrix spec and a rank k with 1 <= k <= min(rows, columns).
    static member MatrixWithRank =
        Arb.fromGenShrink (Generators.matrixWithRank, Shrink.matrixWithRank)

    /// A matrix with a graded, tied or ill-conditioned spectrum.
    static member SpectrumMatrix =
        Arb.fromGenShrink (Generators.spectrumMatrix, Shrink.spectrumMatrix)

    /// A matrix spec with weights of its shape (every zero pattern).
    static member MatrixWithWeights =
        Arb.fromGenShrink (Generators.matrixWithWeights, Shrink.matrixWithWeights)
