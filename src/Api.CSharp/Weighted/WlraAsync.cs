using System;
using System.Threading;
using System.Threading.Tasks;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

// The Task forms of the iterative methods: the same contract as Training.TrainAsync, Mlp.TrainAsync and
// ModelCompression.CompressAsync (progress and cancellation as the last two arguments, the work on a worker thread).
public static partial class Wlra
{
    /// <summary><see cref="Em(Matrix{double}, Weights, int, WlraOptions, IProgress{WlraProgress}, CancellationToken)"/> on a worker
    /// thread, for callers that must not block.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="options">MaxIterations, Tolerance, WarmStart; null for the defaults.</param>
    /// <param name="progress">Told after every iteration; null for none.</param>
    /// <param name="cancellationToken">Checked after every iteration; cancelling ends the task cancelled.</param>
    /// <returns>A task completing with the result; argument errors fault it with the exceptions of Em.</returns>
    public static Task<WeightedApproximation> EmAsync(
        Matrix<double> matrix,
        Weights weights,
        int rank,
        WlraOptions? options = null,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => Task.Run(() => Em(matrix, weights, rank, options, progress, cancellationToken), cancellationToken);

    /// <summary><see cref="EmW(Matrix{double}, Weights, int, WlraOptions, IProgress{WlraProgress}, CancellationToken)"/> on a worker
    /// thread, for callers that must not block.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="options">MaxIterations, Tolerance and svd_w's options; null for the defaults.</param>
    /// <param name="progress">Told after every iteration; null for none.</param>
    /// <param name="cancellationToken">Checked after every iteration; cancelling ends the task cancelled.</param>
    /// <returns>A task completing with the result; argument errors fault it with the exceptions of EmW.</returns>
    public static Task<WeightedApproximation> EmWAsync(
        Matrix<double> matrix,
        Weights weights,
        int rank,
        WlraOptions? options = null,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => Task.Run(() => EmW(matrix, weights, rank, options, progress, cancellationToken), cancellationToken);

    /// <summary><see cref="Als(Matrix{double}, Weights, int, WlraOptions, IProgress{WlraProgress}, CancellationToken)"/> on a worker
    /// thread, for callers that must not block.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="options">MaxIterations, Tolerance, Ridge; null for the defaults.</param>
    /// <param name="progress">Told after every iteration; null for none.</param>
    /// <param name="cancellationToken">Checked after every iteration; cancelling ends the task cancelled.</param>
    /// <returns>A task completing with the result; argument errors fault it with the exceptions of Als.</returns>
    public static Task<WeightedApproximation> AlsAsync(
        Matrix<double> matrix,
        Weights weights,
        int rank,
        WlraOptions? options = null,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => Task.Run(() => Als(matrix, weights, rank, options, progress, cancellationToken), cancellationToken);

    /// <summary><see cref="Adam(Matrix{double}, Weights, int, WlraOptions, IProgress{WlraProgress}, CancellationToken)"/> on a worker
    /// thread, for callers that must not block.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="options">AdamSteps, Tolerance, LearningRate; null for the defaults.</param>
    /// <param name="progress">Told after every iteration; null for none.</param>
    /// <param name="cancellationToken">Checked after every iteration; cancelling ends the task cancelled.</param>
    /// <returns>A task completing with the result; argument errors fault it with the exceptions of Adam.</returns>
    public static Task<WeightedApproximation> AdamAsync(
        Matrix<double> matrix,
        Weights weights,
        int rank,
        WlraOptions? options = null,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => Task.Run(() => Adam(matrix, weights, rank, options, progress, cancellationToken), cancellationToken);

    /// <summary><see cref="Greedy(Matrix{double}, Weights, int, IProgress{WlraProgress}, CancellationToken)"/> on a worker
    /// thread, for callers that must not block.</summary>
    /// <param name="matrix">A, finite.</param>
    /// <param name="weights">W.</param>
    /// <param name="rank">k.</param>
    /// <param name="progress">Told after every step; null for none.</param>
    /// <param name="cancellationToken">Checked after every step; cancelling ends the task cancelled.</param>
    /// <returns>A task completing with the result; argument errors fault it with the exceptions of Greedy.</returns>
    public static Task<WeightedApproximation> GreedyAsync(
        Matrix<double> matrix,
        Weights weights,
        int rank,
        IProgress<WlraProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => Task.Run(() => Greedy(matrix, weights, rank, progress, cancellationToken), cancellationToken);
}
