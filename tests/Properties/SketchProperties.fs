namespace LowRank.Properties

open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Xunit
open LowRank.Core
open LowRank.Properties.Accuracy
open LowRank.Testing
open LowRank.Testing.Generators
open LowRank.Properties.Runner

/// S is linear: S(A + B) = SA + SB, and S A is the sum of the sketches of any partition of A's rows into blocks.
module SketchLinearity =

    let private sketchSpec = sketchWithAtLeast 1

    /// ||S||_F (||A||_F + ||B||_F) bounds every entry's magnitude in the sums compared, so it scales the tolerance.
    let private bound (sketch: Sketch) (norms: float) =
        Norm.frobenius (Sketch.toMatrix sketch) * norms

    [<Fact>]
    let ``sketching a sum equals summing the sketches`` () =
        forAll (Gen.zip matrixPair sketchSpec) (fun ((a, b), s) ->
            let a, b = a.Build(), b.Build()
            let sketch = s.Build a.RowCount
            let lhs = Sketch.apply (a + b) sketch
            let rhs = Sketch.apply a sketch + Sketch.apply b sketch
            let scale = bound sketch (Norm.frobenius a + Norm.frobenius b)
            close (high |> scaledTo scale) "||S(A+B) - (SA + SB)||_F = 0" (Norm.frobenius (lhs - rhs)) 0.0)
        |> check

    [<Fact>]
    let ``sketching row blocks and summing equals sketching the whole`` () =
        let case =
            gen {
                let! spec = matrix
                let! s = sketchSpec
                let! cuts = Gen.listOf (Gen.choose (1, spec.Rows))
                let! sparse = Gen.elements [ false; true ]
                return spec, s, (0 :: spec.Rows :: cuts |> List.distinct |> List.sort), sparse
            }

        forAll case (fun (spec, s, cuts, sparse) ->
            let a = spec.Build()
            let sketch = s.Build a.RowCount

            let blocks =
                cuts
                |> List.pairwise
                |> List.map (fun (first, next) ->
                    let block = a.SubMatrix(first, next - first, 0, a.ColumnCount)
                    // Sparse blocks take the O(nnz) path, which must honour the offset as the dense one does.
                    let block =
                        if sparse then
                            Matrix<float>.Build.SparseOfMatrix block
                        else
                            block

                    Sketch.applyToRowBlock first block sketch)

            let summed = List.reduce (+) blocks
            let whole = Sketch.apply a sketch
            let scale = bound sketch (Norm.frobenius a)

            close
                (high |> scaledTo scale)
                "||sum of block sketches - S A||_F = 0"
                (Norm.frobenius (summed - whole))
                0.0
            |> Prop.label (sprintf "cuts %A, sparse blocks %b" cuts sparse))
        |> check

    [<Fact>]
    let ``applying a sketch equals multiplying by its dense matrix, for dense and sparse A`` () =
        let stacked =
            gen {
                let! parts = Gen.nonEmptyListOf sketchSpec
                return parts
            }

        forAll (Gen.zip matrix stacked) (fun (spec, parts) ->
            let a = spec.Build()
            let sketch = parts |> List.map (fun p -> p.Build a.RowCount) |> Sketch.stack
            let dense = Sketch.toMatrix sketch * a
            let sparse = Matrix<float>.Build.SparseOfMatrix a
            let scale = bound sketch (Norm.frobenius a)
            let accuracy = high |> scaledTo scale

            all [
                holds
                    "rows add up when stacking"
                    (Sketch.rows sketch = List.sumBy (fun (p: SketchSpec) -> p.Rows) parts)
                close accuracy "||S A - dense(S) A||_F = 0" (Norm.frobenius (Sketch.apply a sketch - dense)) 0.0
                close accuracy "sparse A gives the same S A" (Norm.frobenius (Sketch.apply sparse sketch - dense)) 0.0
            ])
        |> check

    [<Fact>]
    let ``a CountSketch has one nonzero of size one per column and is fixed by its seed`` () =
        forAll (Gen.zip3 seed (Gen.choose (1, 30)) (Gen.choose (1, 60))) (fun (seed, m, n) ->
            let s = Sketch.countSketch seed m n
            let dense = Sketch.toMatrix s

            all [
                holds
                    "one nonzero per column, of absolute value 1"
                    (dense.EnumerateColumns()
                     |> Seq.forall (fun c ->
                         c |> Seq.filter (fun x -> x <> 0.0) |> Seq.toList |> List.map abs = [ 1.0 ]))
                holds "same seed, same sketch" (Sketch.countSketch seed m n = s)
                holds "shape m x n" (Sketch.rows s = m && Sketch.columns s = n)
            ])
        |> check

/// The counter-based CountSketch (issue 15's sketch that every process builds alike): column i depends on (seed, i)
/// only, so the columns of any block, built alone at their global offset, are the whole sketch's columns, whatever the
/// total n; each block of S applied to its row block of A and summed gives S A in any order.
module HashedCountSketch =

    [<Fact>]
    let ``any split of the columns into blocks built alone gives the whole sketch, and their products sum to S A`` () =
        let case =
            gen {
                let! spec = matrix
                let! rows = Gen.choose (1, 12)
                let! seed = seed
                let! cuts = Gen.listOf (Gen.choose (1, spec.Rows))
                let! extra = Gen.choose (0, 5)
                let! reversed = Gen.elements [ false; true ]
                return spec, rows, seed, (0 :: spec.Rows :: cuts |> List.distinct |> List.sort), extra, reversed
            }

        forAll case (fun (spec, rows, seed, cuts, extra, reversed) ->
            let a = spec.Build()
            let n = a.RowCount
            let whole = Sketch.hashedCountSketch seed rows n
            // A longer sketch agrees on the first n columns: column i does not depend on n.
            let longer = Sketch.toMatrix (Sketch.hashedCountSketch seed rows (n + extra))
            let parts = cuts |> List.pairwise
            let parts = if reversed then List.rev parts else parts

            let blocks =
                parts
                |> List.map (fun (first, next) ->
                    let block = Sketch.hashedCountSketchColumns seed rows (int64 first) (next - first)
                    first, block, Sketch.apply (a.SubMatrix(first, next - first, 0, a.ColumnCount)) block)

            let assembled = Matrix<float>.Build.Dense(rows, n)

            for first, block, _ in blocks do
                assembled.SetSubMatrix(0, first, Sketch.toMatrix block)

            let summed = blocks |> List.map (fun (_, _, product) -> product) |> List.reduce (+)
            let dense = Sketch.toMatrix whole

            all [
                holds "the blocks side by side are the whole sketch" (assembled = dense)
                holds "the first n columns of a longer sketch are the sketch" (longer.SubMatrix(0, rows, 0, n) = dense)
                close
                    (high |> scaledTo (Norm.frobenius a))
                    "sum of block products = S A"
                    (Norm.frobenius (summed - Sketch.apply a whole))
                    0.0
            ])
        |> check

    [<Fact>]
    let ``rows are uniform and signs fair to within five standard deviations over a million columns`` () =
        // Fixed seeds: a statistical check of the generator, not of generated inputs.
        for seed in [ 0; 1; 12345; System.Int32.MaxValue ] do
            for rows in [ 2; 7; 64 ] do
                let n = 1_000_000

                match Sketch.hashedCountSketchColumns seed rows 0L n with
                | Sketch.CountSketch(_, hash, values) ->
                    let perRow = Array.zeroCreate rows

                    for h in hash do
                        perRow[h] <- perRow[h] + 1

                    let p = 1.0 / float rows
                    let sd = sqrt (float n * p * (1.0 - p))

                    for count in perRow do
                        Assert.True(
                            abs (float count - float n * p) <= 5.0 * sd,
                            $"seed {seed}, {rows} rows: a row has {count} columns, expected {float n * p} +- {5.0 * sd}"
                        )

                    let signs = Array.sum values
                    Assert.True(abs signs <= 5.0 * sqrt (float n), $"seed {seed}, {rows} rows: signs sum to {signs}")
                | other -> failwithf "expected a CountSketch, got %O" other
