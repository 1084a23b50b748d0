namespace LowRank.Core

open System
open System.Diagnostics
open System.IO
open System.Threading
open MathNet.Numerics.LinearAlgebra

/// The checks a training run makes before it starts: the matrices given in memory, and every option against the matrices' shape.
[<RequireQualifiedAccess>]
module internal TrainingValidation =

    /// The checks of matrices given in memory: present, finite and of one shape.
    let internal validateMatrices (matrices: Matrix<float>[]) =
        if matrices.Length = 0 then
            raise (ArgumentException("Expected at least one training matrix, but matrices is empty.", nameof matrices))

        matrices
        |> Array.iteri (fun i a ->
            try
                Guard.notNull "matrix" a
                Guard.finiteMatrix "matrix" a
            with :? ArgumentException as e ->
                raise (ArgumentException($"matrices[{i}]: {e.Message}", nameof matrices, e)))

        let n, d = matrices[0].RowCount, matrices[0].ColumnCount

        match matrices |> Array.tryFindIndex (fun a -> a.RowCount <> n || a.ColumnCount <> d) with
        | Some i ->
            raise (
                ArgumentException(
                    $"Expected every training matrix to be {n}x{d} like matrices[0], but matrices[{i}] is {Guard.shape matrices[i]}.",
                    nameof matrices
                )
            )
        | None -> ()

    /// The checks of the options for n x d training matrices; `first` gives matrices[0] for the weights' check.
    let internal validate (options: TrainingOptions) (n: int) (d: int) (first: unit -> Matrix<float>) =
        let fail (name: string) (expected: string) (value: obj) =
            raise (
                ArgumentOutOfRangeException(
                    $"options.{name}",
                    value,
                    $"Expected {expected}, but options.{name} = {value}."
                )
            )

        if options.Rank < 1 || options.Rank > min n d then
            fail "Rank" $"1 <= Rank <= min(n, d) = {min n d}" options.Rank

        if TrainingShape.trainedRows options < options.Rank then
            fail
                "SketchRows"
                $"at least Rank = {options.Rank} trained rows ({options.Kind} trains {TrainingShape.trainedRows options} of SketchRows)"
                options.SketchRows

        if options.Steps < 0 then
            fail "Steps" "Steps >= 0" options.Steps

        if not (options.LearningRate > 0.0 && Double.IsFinite options.LearningRate) then
            fail "LearningRate" "a finite LearningRate > 0" options.LearningRate

        if options.BatchSize < 1 then
            fail "BatchSize" "BatchSize >= 1" options.BatchSize

        if options.DecayEvery < 1 then
            fail "DecayEvery" "DecayEvery >= 1" options.DecayEvery

        if not (options.DecayFactor > 0.0 && options.DecayFactor <= 1.0) then
            fail "DecayFactor" "0 < DecayFactor <= 1" options.DecayFactor

        if options.CheckpointEvery < 1 then
            fail "CheckpointEvery" "CheckpointEvery >= 1" options.CheckpointEvery

        if not (options.ValidationFraction >= 0.0 && options.ValidationFraction < 1.0) then
            fail "ValidationFraction" "0 <= ValidationFraction < 1" options.ValidationFraction

        if options.ValidationEvery < 0 then
            fail "ValidationEvery" "ValidationEvery >= 0 (0 chooses)" options.ValidationEvery

        if
            options.NonzerosPerColumn < 0
            || options.NonzerosPerColumn > TrainingShape.trainedRows options
        then
            fail
                "NonzerosPerColumn"
                $"0 <= NonzerosPerColumn <= the {TrainingShape.trainedRows options} trained rows (0: all of them)"
                options.NonzerosPerColumn

        if
            options.Positions = SketchPositions.Greedy
            && TrainingShape.perColumn options <> 1
        then
            fail
                "NonzerosPerColumn"
                "NonzerosPerColumn = 1 with Positions = Greedy (the greedy search moves each column's one nonzero)"
                options.NonzerosPerColumn

        if options.GreedyMatrices < 1 then
            fail "GreedyMatrices" "GreedyMatrices >= 1" options.GreedyMatrices

        if options.PrincipalMatrices < 0 then
            fail "PrincipalMatrices" "PrincipalMatrices >= 0 (0: all training matrices)" options.PrincipalMatrices

        match options.Svd with
        | SvdMethod.PowerMethod t when t < 1 -> fail "Svd" "PowerMethod with at least 1 iteration" t
        | _ -> ()

        match options.Loss with
        | TrainingLoss.WeightedFrobenius w ->
            Guard.notNull "options.Loss" w
            Guard.weights "options.Loss" w "matrices[0]" (first ())
        | _ -> ()
