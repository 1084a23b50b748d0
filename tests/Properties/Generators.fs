/// Matrix and sketch generators. A generated value is a small printable spec (shape, rank, scale, seed) from which
/// the matrix is built deterministically, so a counterexample reads "12x3 rank 2 scale 1000 seed 77" and can be
/// rebuilt exactly. Dimensions grow with FsCheck's size; the mix of shapes always includes 1x1, 1xn, nx1, tall,
/// wide, square, rank-deficient and all-zero matrices.
module LowRank.Properties.Generators

open System
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open LowRank.Core

/// A standard normal draw by Box-Muller; 1 - NextDouble() is in (0, 1], so the logarithm is finite.
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
            spec.Scale * gaussian random spec.Rows spec.Columns
        else
            let left = gaussian random spec.Rows spec.Rank
            let right = gaussian random spec.Rank spec.Columns
            (spec.Scale / sqrt (float spec.Rank)) * (left * right)

    override spec.ToString() =
        sprintf "%dx%d rank %d scale %g seed %d" spec.Rows spec.Columns spec.Rank spec.Scale spec.Seed

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

type SketchKind =
    | CountSketch
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

let forAll (generator: Gen<'T>) (body: 'T -> Property) =
    Prop.forAll (Arb.fromGen generator) body

/// Shrinkers: each candidate is a smaller or rounder case that still satisfies its generator's preconditions (k <=
/// min(n, d), a sketch with at least k rows), so a shrunk counterexample is a valid input that still fails, not an
/// argument error. FsCheck tries candidates in order and keeps the first that still fails.
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

/// forAll with a shrinker: a failure is reported on the smallest case the shrinker reaches that still fails.
let forAllShrink (generator: Gen<'T>) (shrink: 'T -> seq<'T>) (body: 'T -> Property) =
    Prop.forAll (Arb.fromGenShrink (generator, shrink)) body
