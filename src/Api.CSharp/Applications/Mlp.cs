using System;
using System.Threading;
using System.Threading.Tasks;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>Options of <see cref="Mlp.Train(Matrix{double}, int[], int, MlpOptions, IProgress{MlpProgress}, CancellationToken)"/>.</summary>
public sealed record MlpOptions
{
    /// <summary>Hidden units. Default 128.</summary>
    public int Hidden { get; init; } = 128;

    /// <summary>Passes over the training set. Default 5.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Mini-batch size. Default 128.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Adam's step size. Default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Seed of the initialisation and the shuffling. Default 0.</summary>
    public int Seed { get; init; }

    internal Core.MlpOptions ToCore() => new(Hidden, Epochs, BatchSize, LearningRate, Seed);
}

/// <summary>
/// A two-layer perceptron x -> softmax(relu(x W1 + b1) W2 + b2), the network of the compression experiments: its first
/// layer W1 (inputs x hidden) is the matrix that is compressed.
/// </summary>
public sealed class Mlp
{
    private readonly Core.Mlp core;

    private Mlp(Core.Mlp core) => this.core = core;

    /// <summary>The first layer W1 (inputs x hidden), the network's own matrix: treat it as read-only.</summary>
    public Matrix<double> FirstLayer => core.W1;

    /// <summary>
    /// Trains the network with softmax cross-entropy and Adam on mini-batches in a seeded random order; deterministic for
    /// a seed and backend. Initialisation as PyTorch's nn.Linear.
    /// </summary>
    /// <param name="inputs">N x d training inputs, an example per row (pixels / 255 for images).</param>
    /// <param name="labels">N labels in [0, classes).</param>
    /// <param name="classes">The number of classes.</param>
    /// <param name="options">Sizes, epochs, step and seed; null for the defaults.</param>
    /// <param name="progress">Told after every epoch (its mean training loss); null for none.</param>
    /// <param name="cancellationToken">Checked before every mini-batch.</param>
    /// <returns>The trained network; O(epochs N (d + c) h).</returns>
    /// <exception cref="ArgumentException">The labels do not match the inputs, or the inputs are not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option or <paramref name="classes"/> is out of range.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Mlp Train(
        Matrix<double> inputs,
        int[] labels,
        int classes,
        MlpOptions? options = null,
        IProgress<MlpProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => new(Core.MlpModule.Train((options ?? new MlpOptions()).ToCore(), classes, Reporters.Of<Core.MlpProgress, MlpProgress>(progress,
        p => new MlpProgress(p.Epoch, p.Epochs, p.Loss)), cancellationToken, inputs, labels));

    /// <summary><see cref="Train"/> on a worker thread, for callers that must not block (a UI, a server).</summary>
    /// <param name="inputs">N x d training inputs.</param>
    /// <param name="labels">N labels in [0, classes).</param>
    /// <param name="classes">The number of classes.</param>
    /// <param name="options">Null for the defaults.</param>
    /// <param name="progress">Told after every epoch; null for none.</param>
    /// <param name="cancellationToken">Checked before every mini-batch; cancelling ends the task cancelled.</param>
    /// <returns>The trained network.</returns>
    public static Task<Mlp> TrainAsync(
        Matrix<double> inputs,
        int[] labels,
        int classes,
        MlpOptions? options = null,
        IProgress<MlpProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => Task.Run(() => Train(inputs, labels, classes, options, progress, cancellationToken), cancellationToken);

    /// <summary>The network with its first layer replaced, for instance by a compressed approximation.</summary>
    /// <param name="layer">The new first layer, of its shape, finite.</param>
    /// <returns>A new network sharing the other parameters.</returns>
    /// <exception cref="ArgumentException"><paramref name="layer"/> has another shape or is not finite.</exception>
    public Mlp WithFirstLayer(Matrix<double> layer) => new(Core.MlpModule.WithFirstLayer(layer, core));

    /// <summary>The fraction of examples classified as their label.</summary>
    /// <param name="inputs">N x d inputs.</param>
    /// <param name="labels">N labels.</param>
    /// <returns>The accuracy in [0, 1].</returns>
    /// <exception cref="ArgumentException">The shapes do not match.</exception>
    public double Accuracy(Matrix<double> inputs, int[] labels) => Core.MlpModule.Accuracy(core, inputs, labels);

    /// <summary>
    /// The empirical Fisher information of the first layer's entries, F = (X o X)^T (Delta o Delta) / N with Delta the
    /// per-example gradients at the first layer's outputs; <c>Norm.SqrtWeights(F)</c> gives the weights of
    /// Fisher-weighted low-rank approximation.
    /// </summary>
    /// <param name="inputs">N x d inputs.</param>
    /// <param name="labels">N labels.</param>
    /// <returns>F (inputs x hidden), nonnegative; O(N d h).</returns>
    /// <exception cref="ArgumentException">The shapes do not match.</exception>
    public Matrix<double> FirstLayerFisher(Matrix<double> inputs, int[] labels) =>
        Core.MlpModule.FirstLayerFisher(core, inputs, labels);

    /// <summary>
    /// G = Delta^T Delta / N, the second moment of the loss gradient at the first layer's outputs: the output side of the
    /// Kronecker-factored Fisher, for <see cref="Compression.TwoSided"/>.
    /// </summary>
    /// <param name="inputs">N x d inputs.</param>
    /// <param name="labels">N labels.</param>
    /// <returns>G (hidden x hidden).</returns>
    /// <exception cref="ArgumentException">The shapes do not match.</exception>
    public Matrix<double> OutputGradientCovariance(Matrix<double> inputs, int[] labels) =>
        Core.MlpModule.OutputGradientCovariance(core, inputs, labels);
}

/// <summary>One finished epoch of <see cref="Mlp.Train(Matrix{double}, int[], int, MlpOptions, IProgress{MlpProgress}, CancellationToken)"/>.</summary>
/// <param name="Epoch">Epochs done, from 1.</param>
/// <param name="Epochs">Epochs in all.</param>
/// <param name="Loss">The epoch's mean softmax cross-entropy over the training examples, each at its mini-batch's forward
/// pass.</param>
public sealed record MlpProgress(int Epoch, int Epochs, double Loss);
