using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>What training reports after every step.</summary>
/// <param name="Step">Steps completed (1 after the first).</param>
/// <param name="Steps">The total number of steps.</param>
/// <param name="Loss">The batch's mean ||A - SCW(S, A)||_F before this step's update, whatever loss is optimised; NaN
/// when the step was rejected.</param>
/// <param name="BestLoss">The lowest <paramref name="Loss"/> so far.</param>
/// <param name="LearningRate">The rate of the next step.</param>
/// <param name="Elapsed">Time since this call started training.</param>
/// <param name="Rejected">Whether the step's loss or gradient was not finite, so its update was discarded and the
/// rate halved.</param>
/// <param name="ValidationError">The mean ||A - SCW(S, A)||_F over the validation matrices after this step; NaN when
/// none was measured.</param>
public sealed record TrainingProgress(
    int Step, int Steps, double Loss, double BestLoss, double LearningRate, TimeSpan Elapsed, bool Rejected, double ValidationError);

/// <summary>The outcome of <see cref="Training.Train"/>.</summary>
public sealed class TrainingResult
{
    internal TrainingResult(Core.TrainingResult core)
    {
        Sketch = new Sketch(core.Sketch);
        Final = new Sketch(core.Final);
        BestLoss = core.BestLoss;
        ValidationError = core.ValidationError;
        FinalValidationError = core.FinalValidationError;
        ValidationMatrices = core.ValidationMatrices;
        LossHistory = core.LossHistory;
        StepsCompleted = core.StepsCompleted;
        Cancelled = core.Cancelled;
        RejectedSteps = core.RejectedSteps;
    }

    /// <summary>The selected sketch (random rows appended for mixed kinds): the one with the lowest validation error
    /// measured, or without validation, the one with the lowest batch loss.</summary>
    public Sketch Sketch { get; }

    /// <summary>The sketch after the last step.</summary>
    public Sketch Final { get; }

    /// <summary><see cref="Sketch"/>'s selection criterion: its validation error, or without validation its batch loss.</summary>
    public double BestLoss { get; }

    /// <summary><see cref="Sketch"/>'s mean ||A - SCW(S, A)||_F over the validation matrices; NaN without validation.</summary>
    public double ValidationError { get; }

    /// <summary><see cref="Final"/>'s mean validation error; NaN without validation.</summary>
    public double FinalValidationError { get; }

    /// <summary>How many matrices were held out for validation.</summary>
    public int ValidationMatrices { get; }

    /// <summary>The Frobenius batch loss of every completed step, NaN for rejected steps.</summary>
    public IReadOnlyList<double> LossHistory { get; }

    /// <summary>Steps completed, counting those of a resumed checkpoint.</summary>
    public int StepsCompleted { get; }

    /// <summary>Whether cancellation stopped training early.</summary>
    public bool Cancelled { get; }

    /// <summary>Steps whose loss or gradient was not finite.</summary>
    public int RejectedSteps { get; }
}

/// <summary>
/// Learned sketches (Indyk, Vakilian and Yuan, "Learning-Based Low-Rank Approximations", NeurIPS 2019): the values of a
/// CountSketch-shaped S are trained by gradient descent on the sum of ||A_i - SCW(S, A_i)|| over matrices from one
/// distribution, differentiating through the SVDs inside SCW, so that later matrices from that distribution get a
/// better rank-k approximation from the same cheap algorithm.
/// </summary>
/// <example>
/// <code>
/// var options = Training.Defaults(rank: 10, sketchRows: 20) with { Steps = 300, CheckpointPath = "run.ckpt" };
/// TrainingResult result = await Training.TrainAsync(frames, options, new Progress&lt;TrainingProgress&gt;(p => ...), token);
/// SketchFile.Save("learned.sketch", result.Sketch);
/// </code>
/// </example>
public static class Training
{
    /// <summary>Options with every default: a Learned sketch started at the training matrices' principal directions
    /// (<see cref="SketchPositions.Principal"/> from 32 matrices, dense), then 100 Adam steps at rate 0.01, Frobenius
    /// loss, Exact SVD, batches of 8, seed 0, sigma_1 normalisation, a tenth held out for validation, no checkpoint.
    /// The 2019 method is <c>Positions = SketchPositions.Random, NonzerosPerColumn = 1, Steps = 500, LearningRate =
    /// 0.05</c>.</summary>
    /// <param name="rank">k.</param>
    /// <param name="sketchRows">m.</param>
    /// <returns>The options.</returns>
    public static TrainingOptions Defaults(int rank, int sketchRows) => new() { Rank = rank, SketchRows = sketchRows };

    /// <summary>Trains a sketch on matrices from one distribution.</summary>
    /// <param name="matrices">The training set: at least one n x d matrix, all of one shape, finite. A
    /// <see cref="MatrixStack"/> is read a matrix at a time (training then holds the stack plus a few matrices); any
    /// other sequence is read once and used as is.</param>
    /// <param name="options">The options.</param>
    /// <param name="progress">Receives a report after every step; may be null.</param>
    /// <param name="cancellationToken">Checked before every step: when cancelled, training stops cleanly, writes the
    /// checkpoint (if any) and returns the best sketch so far with <see cref="TrainingResult.Cancelled"/> set. It never
    /// throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The best and final sketches, the loss history and counters.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="matrices"/>, one of them or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The matrices are empty, of mixed shapes or not finite (the message names the
    /// index); the loss weights are missing or differ in shape; <see cref="TrainingOptions.ResumeFrom"/> was written for
    /// other options or data.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (named in the message).</exception>
    /// <exception cref="System.IO.InvalidDataException"><see cref="TrainingOptions.ResumeFrom"/> is not a checkpoint,
    /// or is truncated or corrupted.</exception>
    /// <remarks>With the Exact SVD a step costs about three SCW evaluations per batch matrix; see
    /// benchmarks/README.md. A step whose loss or gradient is not finite is rejected: the update is discarded, the
    /// values of the last finite step are kept, the rate is halved and the report has Rejected set.</remarks>
    public static TrainingResult Train(
        IEnumerable<Matrix<double>> matrices,
        TrainingOptions options,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        CheckOptions(options);
        return new TrainingResult(Core.Training.Train(options.ToCore(), Reporter(progress), cancellationToken, MatrixStack.CoreOf(matrices)));
    }

    /// <summary>The checks of the options that the core cannot make (it never sees a null LossWeights).</summary>
    internal static void CheckOptions(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        if (options.Loss == TrainingLoss.WeightedFrobenius && options.LossWeights is null)
        {
            throw new ArgumentException(
                "Expected LossWeights (an n x d weight matrix) with Loss = WeightedFrobenius, but LossWeights is null.",
                nameof(options));
        }
    }

    /// <summary>The core's progress callback, reporting to <paramref name="progress"/> (which may be null).</summary>
    internal static Microsoft.FSharp.Core.FSharpFunc<Core.TrainingProgress, Microsoft.FSharp.Core.Unit> Reporter(
        IProgress<TrainingProgress>? progress) =>
        Reporters.Of<Core.TrainingProgress, TrainingProgress>(progress, p =>
            new TrainingProgress(p.Step, p.Steps, p.Loss, p.BestLoss, p.LearningRate, p.Elapsed, p.Rejected, p.ValidationError));

    /// <summary>Runs <see cref="Train"/> on the thread pool.</summary>
    /// <param name="matrices">As for <see cref="Train"/>.</param>
    /// <param name="options">As for <see cref="Train"/>.</param>
    /// <param name="progress">As for <see cref="Train"/>.</param>
    /// <param name="cancellationToken">As for <see cref="Train"/>: it stops training cleanly, so the task still
    /// completes with the best sketch so far rather than being cancelled.</param>
    /// <returns>A task completing with the result; argument errors fault it with the exceptions of <see cref="Train"/>.</returns>
    public static Task<TrainingResult> TrainAsync(
        IEnumerable<Matrix<double>> matrices,
        TrainingOptions options,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => Train(matrices, options, progress, cancellationToken), CancellationToken.None);
}
