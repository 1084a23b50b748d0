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

/// Writing a matrix or a stack to .npy and reading it back gives the same doubles, bit for bit.
module NpyRoundTrip =

    [<Fact>]
    let ``writing then reading a matrix or a stack returns exactly the same entries`` () =
        forAll (Gen.zip matrixPair (Gen.choose (1, 3))) (fun ((a, b), count) ->
            let path = System.IO.Path.GetTempFileName()

            try
                let m = a.Build()
                Npy.writeMatrix path m
                let single = Npy.readMatrix path
                let stack = List.init count (fun k -> if k % 2 = 0 then m else b.Build())
                Npy.writeStack path stack
                let back = Npy.readStack path

                all [
                    holds "matrix round trip" (single.Equals m)
                    holds
                        "stack round trip"
                        (back.Length = count
                         && Seq.forall2 (fun (x: Matrix<float>) y -> x.Equals y) back stack)
                ]
            finally
                System.IO.File.Delete path)
        |> check
