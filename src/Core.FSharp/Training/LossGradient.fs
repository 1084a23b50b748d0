namespace LowRank.Core

open System
open System.Diagnostics
open System.IO
open System.Threading
open MathNet.Numerics.LinearAlgebra

/// The training loss of a sketch on one matrix and its gradient with respect to the sketch's values, by reverse-mode
/// differentiation through SCW(S, A) and its SVDs.
[<RequireQualifiedAccess>]
module internal LossGradient =

    /// Z = V W, with V the right singular vectors of S A and W the top-k right singular vectors of A V, so that
    /// SCW(S, A) = [A V]_k V^T = A Z Z^T (differentiable). As in Scw.approximate, V keeps only the r directions above
    /// the numerical-rank threshold of S A (an empty sketch row or a value trained to 0 must not let arbitrary
    /// null-space vectors into the approximation); r = 0 gives None: the approximation is 0, with zero gradient.
    /// Also returns the value of A Z = (A V) W, formed from A V without another pass over A.
    let internal projection (svd: SvdMethod) (seed: int) (rank: int) (sa: Node) (a: Matrix<float>) =
        match DiffSvd.aboveRank svd seed sa with
        | None -> None
        | Some(_, _, v) ->
            let av = Diff.mul false (Diff.constant a) false v

            let _, _, w =
                DiffSvd.top svd (seed + 1) (min rank (min av.Value.RowCount av.Value.ColumnCount)) av

            Some(Diff.mul false v false w, Dense.multiply av.Value w.Value)

    /// The training loss of a residual node.
    let internal lossOf (loss: TrainingLoss) (residual: Node) =
        match loss with
        | TrainingLoss.Frobenius -> Diff.norm residual
        | TrainingLoss.VNorm -> Diff.sum (Diff.rowNorms residual)
        | TrainingLoss.WeightedFrobenius w -> Diff.norm (Diff.hadamard residual (Diff.constant w))

    /// For one matrix: the optimised loss, ||A - SCW(S, A)||_F, and the gradient of the loss in the trained
    /// values. Cost: one SCW forward and about twice that backward.
    let internal lossAndGradientWith
        (options: TrainingOptions)
        (hash: int[])
        (random: Sketch option)
        (seed: int)
        (values: float[])
        (a: Matrix<float>)
        (squaredNorm: float)
        =
        let tape = Tape()

        let parameters =
            Diff.variable tape (Matrix<float>.Build.Dense(values.Length, 1, values))

        let learned =
            if hash.Length = a.RowCount then
                Diff.countSketch (TrainingShape.trainedRows options) hash parameters (Diff.constant a)
            else
                Diff.sparseSketch
                    (TrainingShape.trainedRows options)
                    (hash.Length / a.RowCount)
                    hash
                    parameters
                    (Diff.constant a)

        let sa =
            match options.Kind, random with
            | LearnedSketchKind.MixedJoint, Some r ->
                Diff.stackRows [ learned; Diff.constant (Sketch.applyUnchecked r 0 a) ]
            | _ -> learned

        // Values that overflow S A make the step non-finite: report NaN (the caller rejects the step) rather than
        // hand inf/NaN to an SVD, which may throw instead (MathNet's does not converge on them). Entries above 1e150
        // count as overflow too: their squares, which the SVD forms, overflow, and MathNet's managed SVD was seen to
        // loop without end on such input.
        let failed = nan, nan, Array.create values.Length nan
        // One pass: NaN fails the comparison, and infinities exceed the bound.
        if not (Diff.entries sa.Value |> Array.forall (fun x -> abs x <= 1e150)) then
            failed
        else
            try
                let z = projection options.Svd seed options.Rank sa a

                // The Frobenius loss without the n x d residual (and its adjoint): the step then allocates
                // O((n + d) m) instead of three n x d arrays, which on video frames made the garbage collector, not
                // the arithmetic, the step's cost.
                let direct =
                    match options.Loss, z with
                    | TrainingLoss.Frobenius, Some(z, az) -> Diff.projectionResidualNorm a squaredNorm az z
                    | _ -> None

                let loss, frobenius =
                    match direct with
                    | Some loss -> loss, loss.Value[0, 0]
                    | None ->
                        let r =
                            match z with
                            | None -> Diff.constant a
                            | Some(z, _) -> Diff.projectionResidual a z

                        lossOf options.Loss r, Dense.twoNorm (Dense.storedValues r.Value)

                tape.Backward loss

                let gradient =
                    match parameters.Adjoint with
                    | null -> Array.zeroCreate values.Length
                    | g -> g.ToColumnMajorArray()

                loss.Value[0, 0], frobenius, gradient
            with
            // An SVD that does not converge on extreme finite values: the same outcome as an overflow.
            | :? ArithmeticException
            | :? MathNet.Numerics.NonConvergenceException -> failed

    /// lossAndGradientWith, measuring ||A||_F^2 itself.
    let internal lossAndGradient
        (options: TrainingOptions)
        (hash: int[])
        (random: Sketch option)
        (seed: int)
        (values: float[])
        (a: Matrix<float>)
        =
        let norm = Dense.twoNorm (Dense.storedValues a)
        lossAndGradientWith options hash random seed values a (norm * norm)

    let internal sketchOf (options: TrainingOptions) (hash: int[]) (random: Sketch option) (values: float[]) =
        let m = TrainingShape.trainedRows options
        let s = TrainingShape.perColumn options

        let learned =
            if s = 1 then
                CountSketch(m, hash, Array.copy values)
            else
                DenseSketch(Sketch.denseOfPositions m s hash values)

        match random with
        | None -> learned
        | Some r -> Stacked [| learned; r |]
