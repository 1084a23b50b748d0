namespace LowRank.Properties

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

/// Inputs of a gradient check: their shapes, the entries' scale and a seed; printable and rebuilt exactly.
type GradientCase = {
    Shapes: (int * int) list
    Scale: float
    Seed: int
} with

    override case.ToString() =
        sprintf "%A scale %g seed %d" case.Shapes case.Scale case.Seed

/// Every differentiable operation's reverse rule agrees with central finite differences (DiffSharp's numgrad
/// check): for L(X) = <C, f(X)> with a random cotangent C, the analytic gradient from one reverse sweep matches
/// (L(X + h E_ij) - L(X - h E_ij)) / 2h entry by entry, on random shapes and scales.
module GradientMatchesFiniteDifferences =

    let private build = Matrix<float>.Build

    /// L(X) = sum_o <C_o, f_o(X)> over f's outputs, with cotangents C_o fixed by the outputs' shapes and order.
    let private objective (f: Node list -> Node list) (inputs: Matrix<float> list) =
        let tape = Tape()
        let variables = inputs |> List.map (Diff.variable tape)

        let terms =
            f variables
            |> List.mapi (fun o output ->
                let rows, columns = output.Value.RowCount, output.Value.ColumnCount
                let c = gaussian (Random(o * 7919 + rows * 31 + columns)) rows columns
                Diff.sum (Diff.hadamard output (Diff.constant c)))

        let loss = List.reduce Diff.add terms
        tape, variables, loss

    /// The analytic gradient of every input next to central differences with step h = 1e-5 times the entries' scale,
    /// Richardson-extrapolated: (4 D(h/2) - D(h)) / 3 cancels the O(h^2) truncation term and leaves O(h^4), which
    /// matters for functions with large higher derivatives, such as 10 unrolled power iterations (plain central
    /// differences at this h missed by up to 1e-5 of the gradient there, and the miss shrank 100x per 10x smaller step:
    /// the truncation, not the rule). Rounding error is O(eps |L| / h), so the two agree to about 1e-7 of the gradient's
    /// size (plus |L| / scale) when f is smooth at the scale of the inputs.
    let private compare (f: Node list -> Node list) (inputs: Matrix<float> list) (scale: float) =
        let tape, variables, loss = objective f inputs
        tape.Backward loss

        let analytic =
            variables
            |> List.map (fun v ->
                match v.Adjoint with
                | null -> build.Dense(v.Value.RowCount, v.Value.ColumnCount)
                | g -> g)

        let h = 1e-5 * scale

        let lossAt (point: Matrix<float> list) =
            let _, _, loss = objective f point
            loss.Value[0, 0]

        let shifted index i j delta =
            inputs
            |> List.mapi (fun other y ->
                if other = index then
                    let z = y.Clone()
                    z[i, j] <- z[i, j] + delta
                    z
                else
                    y)

        let numeric =
            inputs
            |> List.mapi (fun index x ->
                let central i j step =
                    (lossAt (shifted index i j step) - lossAt (shifted index i j -step))
                    / (2.0 * step)

                build.Dense(x.RowCount, x.ColumnCount, fun i j -> (4.0 * central i j (h / 2.0) - central i j h) / 3.0))

        let flatten (ms: Matrix<float> list) =
            ms |> List.toArray |> Array.collect (fun m -> m.ToColumnMajorArray())

        let a, n = flatten analytic, flatten numeric
        let difference = Dense.twoNorm (Array.map2 (-) a n)
        let size = Dense.twoNorm n + abs loss.Value[0, 0] / scale

        all [
            holds "the analytic gradient is finite" (Array.forall Double.IsFinite a)
            atMost { Absolute = 0.0; Relative = 0.0 } "||analytic - numeric||" difference (1e-6 * size)
        ]

    let private random (case: GradientCase) =
        let random = Random(case.Seed)
        case.Shapes |> List.map (fun (r, c) -> case.Scale * gaussian random r c)

    let private side = Gen.choose (1, 6)

    /// Cases whose inputs have the shapes `shapes` builds from three random sides.
    let private cases (shapes: int -> int -> int -> (int * int) list) =
        gen {
            let! a = side
            let! b = side
            let! c = side
            let! scale = Gen.elements [ 1e-2; 1.0; 1e2 ]
            let! seed = seed

            return {
                Shapes = shapes a b c
                Scale = scale
                Seed = seed
            }
        }

    let private checkCases generator (inputs: GradientCase -> Matrix<float> list) f =
        forAll generator (fun case -> compare (f case) (inputs case) case.Scale)
        |> checkWith 30

    let private checkOp shapes f =
        checkCases (cases shapes) random (fun _ -> f)

    [<Fact>]
    let ``add, sub, neg, scale and hadamard`` () =
        checkOp (fun a b _ -> [ a, b; a, b ]) (fun xs ->
            let x, y = xs[0], xs[1]
            [ Diff.hadamard (Diff.add x (Diff.scale 3.0 y)) (Diff.neg (Diff.sub y x)) ])

    [<Fact>]
    let ``products with every combination of transposes, and transpose`` () =
        checkOp (fun a b c -> [ a, b; b, c; a, c; b, c ]) (fun xs ->
            let x, y, z, w = xs[0], xs[1], xs[2], xs[3]

            [
                Diff.mul false x false y
                Diff.mul true x false z
                Diff.mul false y true w
                Diff.mul true w true x
                Diff.transpose z
            ])

    [<Fact>]
    let ``divide, reciprocal, sqrt and scaleBy away from their singularities`` () =
        let positive case =
            random case |> List.map (fun x -> x.Map(fun v -> case.Scale + abs v))

        checkCases (cases (fun a b _ -> [ a, b; a, b; 1, 1 ])) positive (fun _ xs ->
            let x, y, s = xs[0], xs[1], xs[2]

            [
                Diff.scaleBy (Diff.reciprocal s) (Diff.sqrt (Diff.divide x (Diff.reciprocal y)))
            ])

    [<Fact>]
    let ``sum, squared norm and row norms`` () =
        checkOp (fun a b _ -> [ a, b ]) (fun xs -> [ Diff.rowNorms xs[0]; Diff.sum xs[0]; Diff.squaredNorm xs[0] ])

    [<Fact>]
    let ``row and column slices and stacking`` () =
        checkOp (fun a b c -> [ a + 1, b; c, b; a, c ]) (fun xs ->
            let x, y, z = xs[0], xs[1], xs[2]

            [
                Diff.stackRows [ Diff.rows 1 (x.Value.RowCount - 1) x; y ]
                Diff.stackColumns [ Diff.columns (z.Value.ColumnCount - 1) 1 z; z ]
            ])

    [<Fact>]
    let ``a CountSketch with trained values, in its values and in A`` () =
        checkCases (cases (fun a b c -> [ a, 1; a, b; c, 1 ])) random (fun case xs ->
            let n = xs[0].Value.RowCount
            let m = fst case.Shapes[2]
            let hash = Array.init n (fun i -> (i * 7 + case.Seed % 5) % m)
            [ Diff.countSketch m hash xs[0] xs[1] ])

    /// A p x q matrix with singular values scale (r - i) (1 + i / 10), i = 0 .. r - 1, r = min(p, q): gaps of at
    /// least scale / 2, so central differences resolve the singular vectors. With `repeat`, sigma_3 = sigma_2.
    let separated (repeat: bool) (case: GradientCase) =
        let random = Random(case.Seed)
        let p, q = case.Shapes[0]
        let r = min p q
        let orthonormal rows = fst (Dense.qr (gaussian random rows r))

        let sigma i =
            case.Scale * float (r - i) * (1.0 + 0.1 * float i)

        let s = Array.init r (fun i -> if repeat && i = 2 then sigma 1 else sigma i)

        [
            orthonormal p * build.DiagonalOfDiagonalArray s * (orthonormal q).Transpose()
        ]

    let private projector (basis: Node) = Diff.mul false basis true basis

    [<Fact>]
    let ``Exact SVD: singular values and the projectors onto the top-k singular subspaces`` () =
        checkCases (cases (fun a b c -> [ a + 1, b + 1; c, 1 ])) (separated false) (fun case xs ->
            let x = xs[0].Value
            let k = 1 + fst case.Shapes[1] % min x.RowCount x.ColumnCount
            let u, s, v = DiffSvd.exact k xs[0]

            [
                projector u
                s
                projector v
                Diff.mul false u false (Diff.mul true u false xs[0])
            ])

    [<Fact>]
    let ``Exact SVD: equal singular values give finite gradients of rotation-invariant functions`` () =
        checkCases (cases (fun a b c -> [ a + 3, b + 3; c, 1 ])) (separated true) (fun case xs ->
            // sigma_2 = sigma_3: the exact adjoint divides by sigma_3^2 - sigma_2^2 = 0. Projectors onto the top 1
            // or top 3 are still smooth, and their gradients must come out finite and right.
            let k = if fst case.Shapes[1] % 2 = 0 then 1 else 3
            let u, s, v = DiffSvd.exact k xs[0]
            [ projector u; Diff.sum s; projector v ])

    [<Fact>]
    let ``PowerMethod SVD: every output, through the unrolled iterations and deflations`` () =
        checkCases (cases (fun a b c -> [ a + 1, b + 1; c, 1 ])) (separated false) (fun case xs ->
            let x = xs[0].Value
            let k = 1 + fst case.Shapes[1] % min x.RowCount x.ColumnCount
            let iterations = [| 1; 3; 10 |][case.Seed % 3]
            // Its own seed: with case.Seed, the start vectors would be the very normals that built X's singular vectors
            // (both draw from Random(case.Seed)), and for a 2 x 4 X with k = 2 the second start was exactly orthogonal
            // to the deflated matrix's row space, where the sign of v_2, and so the function, jumps (seeds 21, 39, 40).
            let u, s, v = DiffSvd.powerMethod iterations (case.Seed ^^^ 0x5DEECE6) k xs[0]
            [ u; s; v ])

    /// What training minimises is SCW's error with the sketch it trains: for the Frobenius loss, the loss of values v on
    /// A is ||A - SCW(S(v), A)||_F with S(v) the learned rows over the fixed random ones for Mixed (J), and the learned
    /// rows alone for Learned and Mixed (S) (whose random rows are appended after training). A Mixed (J) trainer that
    /// dropped the random rows from its loss would fail it.
    [<Fact>]
    let ``the Frobenius training loss is the SCW error of the sketch training returns, learned and mixed`` () =
        let cases =
            gen {
                let! rows = Gen.choose (4, 14)
                let! columns = Gen.choose (3, 12)
                let! rank = Gen.choose (1, 2)

                let! kind =
                    Gen.elements [
                        LearnedSketchKind.Learned
                        LearnedSketchKind.MixedJoint
                        LearnedSketchKind.MixedSeparate
                    ]

                let! positions = Gen.elements [ SketchPositions.Random; SketchPositions.Principal ]
                let! seed = seed
                return rows, columns, rank, kind, positions, seed
            }

        forAll cases (fun (rows, columns, rank, kind, positions, seed) ->
            let random = Random(seed)
            let a = gaussian random rows columns

            let options = {
                Training.defaults rank (2 * rank + 2) with
                    Kind = kind
                    Seed = seed
                    Positions = positions
                    NonzerosPerColumn = 1
            }

            let _, hash, values, fixedRows =
                StartingSketches.start Sharding.whole options 1 (fun _ -> a) [| 0, 1.0 |] rows

            let values = values |> Array.map (fun v -> v * (0.5 + random.NextDouble()))
            let loss, _, _ = LossGradient.lossAndGradient options hash fixedRows 0 values a
            // Mixed (S) trains its learned rows alone and appends the random ones afterwards; the others train the
            // sketch they return.
            let trained =
                if kind = LearnedSketchKind.MixedSeparate then
                    None
                else
                    fixedRows

            let sketch = LossGradient.sketchOf options hash trained values
            let error = Scw.error rank sketch a

            close (medium |> scaledTo (Norm.frobenius a)) (sprintf "loss = ||A - SCW(S, A)||_F for %A" kind) loss error
            |> Prop.label (sprintf "sketch %d x %d" (Sketch.rows sketch) (Sketch.columns sketch)))
        |> check

    [<Fact>]
    let ``the SCW training loss in the sketch values, for every loss and sketch kind`` () =
        let trainingCases =
            gen {
                let! rows = Gen.choose (4, 12)
                let! columns = Gen.choose (3, 10)
                let! rank = Gen.choose (1, 2)
                let! loss = Gen.choose (0, 2)
                let! kind = Gen.elements [ LearnedSketchKind.Learned; LearnedSketchKind.MixedJoint ]
                let! seed = seed
                return rows, columns, rank, loss, kind, seed
            }

        forAll trainingCases (fun (rows, columns, rank, lossIndex, kind, seed) ->
            let random = Random(seed)
            let a = gaussian random rows columns
            let weights = a.Map(fun _ -> 0.5 + random.NextDouble())

            let loss =
                [|
                    TrainingLoss.Frobenius
                    TrainingLoss.VNorm
                    TrainingLoss.WeightedFrobenius weights
                |][lossIndex]

            // The 2019 sketch (one random nonzero per column), an OSNAP-shaped one (two), and the dense Principal
            // start, chosen by the seed.
            let positions, nonzeros =
                [|
                    SketchPositions.Random, 1
                    SketchPositions.Random, 2
                    SketchPositions.Principal, 0
                |][abs seed % 3]

            let options = {
                Training.defaults rank (2 * rank + 1) with
                    Loss = loss
                    Kind = kind
                    Seed = seed
                    Positions = positions
            }

            let options = {
                options with
                    NonzerosPerColumn = min nonzeros (TrainingShape.trainedRows options)
            }

            let _, hash, values, fixedRows =
                StartingSketches.start Sharding.whole options 1 (fun _ -> a) [| 0, 1.0 |] rows

            let values = values |> Array.map (fun v -> v * (0.5 + random.NextDouble()))

            let lossAt vs =
                let l, _, _ = LossGradient.lossAndGradient options hash fixedRows 0 vs a
                l

            let _, _, gradient = LossGradient.lossAndGradient options hash fixedRows 0 values a
            let h = 1e-6

            let numeric =
                Array.init values.Length (fun i ->
                    let shifted delta =
                        values |> Array.mapi (fun j v -> if i = j then v + delta else v)

                    (lossAt (shifted h) - lossAt (shifted -h)) / (2.0 * h))

            let difference = Dense.twoNorm (Array.map2 (-) gradient numeric)

            atMost
                { Absolute = 0.0; Relative = 0.0 }
                (sprintf "||analytic - numeric|| for %A, %A, %A with %d nonzeros" loss kind positions nonzeros)
                difference
                (1e-5 * (Dense.twoNorm numeric + lossAt values)))
        |> checkWith 40

    [<Fact>]
    let ``the fused projection residual A - (A Z) Z^T, in Z`` () =
        // A is data, a constant, as in training: only Z is differentiated.
        checkCases (cases (fun a b c -> [ b, c; a, 1 ])) random (fun case xs ->
            let a =
                case.Scale
                * gaussian (Random(case.Seed + 1)) (fst case.Shapes[1]) (fst case.Shapes[0])

            [ Diff.projectionResidual a xs[0] ])

/// Algorithm 2 of Indyk, Vakilian and Yuan (NeurIPS 2019), the power method with deflation that the paper
/// differentiates: on a matrix whose top k + 1 singular values fall by a factor rho or more, T iterations find each
/// sigma_i to a relative rho^(2T) plus rounding, so with T = 60 the values agree with LAPACK's to 1e-10 sigma_1. The
/// top-k subspaces agree to rounding divided by the gap (Davis-Kahan: sin theta <= ||E|| / gap): each deflation
/// leaves an error of order eps sigma_1 in the matrix, so the projectors may differ by up to about k eps sigma_1 /
/// (sigma_k - sigma_(k+1)), which is 1e-7 for sigma_k = 1e-9 sigma_1. A deflation that subtracted the wrong multiple,
/// or an iteration with X instead of X^T X, fails it.
module Algorithm2 =

    [<Fact>]
    let ``the power method with deflation finds the top-k singular values and subspaces of a graded matrix`` () =
        let case =
            gen {
                let! rows = Gen.choose (1, 12)
                let! columns = Gen.choose (1, 12)
                let! k = Gen.choose (1, min rows columns)
                let! rho = Gen.elements [ 0.1; 0.3; 0.5 ]
                let! scale = scale
                let! seed = seed
                return rows, columns, k, rho, scale, seed
            }

        forAll case (fun (rows, columns, k, rho, scale, seed) ->
            let random = Random seed
            let p = min rows columns
            let q size = fst (Dense.qr (gaussian random size p))
            let sigma = Array.init p (fun i -> scale * rho ** float i)

            let x =
                q rows
                * Matrix<float>.Build.DiagonalOfDiagonalArray sigma
                * (q columns).Transpose()

            // A start seed unrelated to the one that built X (see the gradient property above).
            let u, s, v = DiffSvd.powerMethod 60 (seed ^^^ 0x5DEECE6) k (Diff.constant x)
            let exact = Dense.thinSvd x
            let projector (basis: Matrix<float>) = basis * basis.Transpose()
            let exactU = exact.U.SubMatrix(0, rows, 0, k)
            let exactV = exact.Vt.SubMatrix(0, k, 0, columns).Transpose()
            let found = s.Value.Column(0).ToArray()

            // Davis-Kahan with the deflations' rounding: k eps sigma_1 / gap, ten times over, and 1e-8 at least.
            let gap = sigma[k - 1] - (if k < p then sigma[k] else 0.0)
            let subspace = max 1e-8 (10.0 * float k * 2.2e-16 * sigma[0] / gap)

            all [
                close
                    (medium |> scaledTo scale)
                    "max_i |sigma_i (power method) - sigma_i (LAPACK)|"
                    (Array.map2 (fun a b -> abs (a - b)) found exact.S[.. k - 1] |> Array.max)
                    0.0
                close
                    { Absolute = subspace; Relative = 0.0 }
                    "||U U^T - U_k U_k^T||_F"
                    (Norm.frobenius (projector u.Value - projector exactU))
                    0.0
                close
                    { Absolute = subspace; Relative = 0.0 }
                    "||V V^T - V_k V_k^T||_F"
                    (Norm.frobenius (projector v.Value - projector exactV))
                    0.0
            ]
            |> Prop.label (sprintf "%dx%d, k = %d, rho = %g" rows columns k rho))
        |> check
