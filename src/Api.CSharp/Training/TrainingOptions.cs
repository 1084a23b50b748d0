using MathNet.Numerics.LinearAlgebra;
using Microsoft.FSharp.Core;

namespace LowRank;

/// <summary>The per-matrix loss minimised when a sketch is trained; summed over the mini-batch.</summary>
public enum TrainingLoss
{
    /// <summary>||A - SCW(S, A)||_F, the loss of Indyk, Vakilian and Yuan (NeurIPS 2019, Section 3).</summary>
    Frobenius = 0,

    /// <summary>||A - SCW(S, A)||_V, the sum of the residual's row 2-norms.</summary>
    VNorm = 1,

    /// <summary>||W o (A - SCW(S, A))||_F with W = <see cref="TrainingOptions.LossWeights"/>.</summary>
    WeightedFrobenius = 2,
}

/// <summary>The update rule of sketch training.</summary>
public enum Optimizer
{
    /// <summary>Gradient descent whose rate is multiplied by <see cref="TrainingOptions.DecayFactor"/> every
    /// <see cref="TrainingOptions.DecayEvery"/> steps while above <see cref="TrainingOptions.MinimumLearningRate"/>.</summary>
    Sgd = 0,

    /// <summary>Adam (Kingma and Ba 2015), beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, bias-corrected.</summary>
    Adam = 1,
}

/// <summary>Which sketch training produces (Indyk, Vakilian and Yuan, NeurIPS 2019, Sections 3 and 4).</summary>
public enum LearnedSketchKind
{
    /// <summary>All m rows are a CountSketch whose values are trained; positions stay those of the random start.</summary>
    Learned = 0,

    /// <summary>Mixed (J): floor(m/2) trained rows over m - floor(m/2) fixed random rows, trained together.</summary>
    MixedJoint = 1,

    /// <summary>Mixed (S): floor(m/2) rows trained alone, then m - floor(m/2) random rows appended.</summary>
    MixedSeparate = 2,
}

/// <summary>Where the nonzeros of a learned sketch's trained rows sit, and what values training starts from.</summary>
public enum SketchPositions
{
    /// <summary>The 2019 method: seeded uniformly random rows with random signs +-1/sqrt(s); positions never change.
    /// With one nonzero per column, exactly the CountSketch <see cref="Sketch.CountSketch"/> draws from the seed.</summary>
    Random = 0,

    /// <summary>Learned positions by the inner-product initialisation (after Li, Lin, Liu, Vakilian and Woodruff, ICLR
    /// 2023): U, the top m' left singular directions of the normalized training matrices side by side; column j's s
    /// nonzeros go to the rows r with the largest |U[j, r]|, valued sqrt(n) U[j, r]; values are then trained.</summary>
    Principal = 1,

    /// <summary>Learned positions by the greedy search of Li et al. (ICLR 2023), for one nonzero per column
    /// (<see cref="TrainingOptions.NonzerosPerColumn"/> = 1): from the principal start, each column's nonzero moves to
    /// the row that most lowers the summed SCW error of <see cref="TrainingOptions.GreedyMatrices"/> training matrices;
    /// then values are trained.</summary>
    Greedy = 2,
}

/// <summary>How the SVDs inside SCW are differentiated.</summary>
public enum SvdMethod
{
    /// <summary>LAPACK's SVD with its analytic adjoint, broadened so equal singular values give finite gradients.</summary>
    Exact = 0,

    /// <summary>Algorithm 2 of the paper: <see cref="TrainingOptions.PowerIterations"/> power iterations per singular
    /// vector, differentiated through the unrolled iterations.</summary>
    PowerMethod = 1,
}

/// <summary>Options of <see cref="Training.Train"/>. <see cref="Rank"/> and <see cref="SketchRows"/> are required; the
/// rest default to the values of <see cref="Training.Defaults"/>.</summary>
public sealed record TrainingOptions
{
    private static readonly Core.TrainingOptions CoreDefaults = Core.Training.Defaults(1, 1);

    /// <summary>k, the target rank, 1 &lt;= k &lt;= min(n, d).</summary>
    public required int Rank { get; init; }

    /// <summary>m, the sketch's rows; the trained rows (m, or floor(m/2) for mixed kinds) must be at least k.</summary>
    public required int SketchRows { get; init; }

    /// <summary>Total steps, one mini-batch each; a resumed run continues up to this count. Default 100.</summary>
    public int Steps { get; init; } = CoreDefaults.Steps;

    /// <summary>The initial learning rate. Default 0.01.</summary>
    public double LearningRate { get; init; } = CoreDefaults.LearningRate;

    /// <summary>Default <see cref="LowRank.Optimizer.Adam"/>.</summary>
    public Optimizer Optimizer { get; init; } = Optimizer.Adam;

    /// <summary>Default <see cref="TrainingLoss.Frobenius"/>.</summary>
    public TrainingLoss Loss { get; init; } = TrainingLoss.Frobenius;

    /// <summary>W (n x d, finite, nonnegative) for <see cref="TrainingLoss.WeightedFrobenius"/>; otherwise ignored.</summary>
    public Matrix<double>? LossWeights { get; init; }

    /// <summary>Default <see cref="LearnedSketchKind.Learned"/>.</summary>
    public LearnedSketchKind Kind { get; init; } = LearnedSketchKind.Learned;

    /// <summary>Default <see cref="LowRank.SvdMethod.Exact"/>.</summary>
    public SvdMethod Svd { get; init; } = SvdMethod.Exact;

    /// <summary>Power iterations per singular vector for <see cref="SvdMethod.PowerMethod"/>. Default 10.</summary>
    public int PowerIterations { get; init; } = 10;

    /// <summary>Matrices per step, drawn by a seeded shuffle; capped at the training set's size. Default 8.</summary>
    public int BatchSize { get; init; } = CoreDefaults.BatchSize;

    /// <summary>Seeds the random start, the mixed kinds' random rows, the batches and the power method. Default 0.</summary>
    public int Seed { get; init; } = CoreDefaults.Seed;

    /// <summary>Default <see cref="Normalization.TopSingularValue"/>, as in the paper.</summary>
    public Normalization Normalization { get; init; } = Normalization.TopSingularValue;

    /// <summary>Sgd's decay period in steps. Default 1000.</summary>
    public int DecayEvery { get; init; } = CoreDefaults.DecayEvery;

    /// <summary>Sgd's decay factor in (0, 1]. Default 0.3.</summary>
    public double DecayFactor { get; init; } = CoreDefaults.DecayFactor;

    /// <summary>Sgd decays only while the rate is above this. Default 1e-6.</summary>
    public double MinimumLearningRate { get; init; } = CoreDefaults.MinimumLearningRate;

    /// <summary>A checkpoint file written every <see cref="CheckpointEvery"/> steps and when training stops; null for none.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>The checkpoint period in steps. Default 100.</summary>
    public int CheckpointEvery { get; init; } = CoreDefaults.CheckpointEvery;

    /// <summary>A checkpoint to continue from; the run then ends as an uninterrupted run with the same options would.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>
    /// The fraction of the matrices held out for validation, in [0, 1): they are evenly spaced through the set, not
    /// trained on, and the sketch returned is the one with the lowest mean validation error. 0, or a set too small to
    /// hold one out, selects by the batch loss. Default 0.1.
    /// </summary>
    public double ValidationFraction { get; init; } = CoreDefaults.ValidationFraction;

    /// <summary>Steps between validations; 0 chooses max(1, Steps / 25). Default 0.</summary>
    public int ValidationEvery { get; init; } = CoreDefaults.ValidationEvery;

    /// <summary>Where the trained rows' nonzeros sit. Default <see cref="SketchPositions.Principal"/>.</summary>
    public SketchPositions Positions { get; init; } = SketchPositions.Principal;

    /// <summary>s, the nonzeros per column of the trained rows, in [0, trained rows]; 0 means all of them (a dense block).
    /// s = 1 is a CountSketch applied in O(n d); s &gt; 1 is stored and applied densely. Default 0.</summary>
    public int NonzerosPerColumn { get; init; } = CoreDefaults.NonzerosPerColumn;

    /// <summary>How many training matrices (evenly spaced) the <see cref="SketchPositions.Principal"/> start is computed
    /// from; 0 uses all. With <see cref="Steps"/> = 0 this is a few-shot sketch. Default 32.</summary>
    public int PrincipalMatrices { get; init; } = CoreDefaults.PrincipalMatrices;

    /// <summary>How many training matrices (evenly spaced) the <see cref="SketchPositions.Greedy"/> search scores its
    /// trials on. Default 4.</summary>
    public int GreedyMatrices { get; init; } = CoreDefaults.GreedyMatrices;

    private static FSharpOption<string> Option(string? value) => value is null ? FSharpOption<string>.None : FSharpOption<string>.Some(value);

    /// <summary>An enum value outside its defined members: (TrainingLoss)42 would otherwise be mapped silently.</summary>
    private static System.ArgumentOutOfRangeException Undefined<T>(string property, T value) where T : struct, System.Enum =>
        new("options", value,
            $"Expected options.{property} to be one of {string.Join(", ", System.Enum.GetNames<T>())}, but it is {value}.");

    internal Core.TrainingOptions ToCore() =>
        new(Rank, SketchRows, Steps, LearningRate,
            Optimizer switch
            {
                Optimizer.Sgd => Core.Optimizer.Sgd,
                Optimizer.Adam => Core.Optimizer.Adam,
                _ => throw Undefined(nameof(Optimizer), Optimizer),
            },
            Loss switch
            {
                TrainingLoss.Frobenius => Core.TrainingLoss.Frobenius,
                TrainingLoss.VNorm => Core.TrainingLoss.VNorm,
                TrainingLoss.WeightedFrobenius => Core.TrainingLoss.NewWeightedFrobenius(LossWeights!),
                _ => throw Undefined(nameof(Loss), Loss),
            },
            Kind switch
            {
                LearnedSketchKind.Learned => Core.LearnedSketchKind.Learned,
                LearnedSketchKind.MixedJoint => Core.LearnedSketchKind.MixedJoint,
                LearnedSketchKind.MixedSeparate => Core.LearnedSketchKind.MixedSeparate,
                _ => throw Undefined(nameof(Kind), Kind),
            },
            Svd switch
            {
                SvdMethod.Exact => Core.SvdMethod.Exact,
                SvdMethod.PowerMethod => Core.SvdMethod.NewPowerMethod(PowerIterations),
                _ => throw Undefined(nameof(Svd), Svd),
            },
            BatchSize, Seed,
            Normalization switch
            {
                Normalization.TopSingularValue => Core.Normalization.TopSingularValue,
                Normalization.None => Core.Normalization.None,
                _ => throw Undefined(nameof(Normalization), Normalization),
            },
            DecayEvery, DecayFactor, MinimumLearningRate, Option(CheckpointPath), CheckpointEvery, Option(ResumeFrom),
            ValidationFraction, ValidationEvery,
            Positions switch
            {
                SketchPositions.Principal => Core.SketchPositions.Principal,
                SketchPositions.Random => Core.SketchPositions.Random,
                SketchPositions.Greedy => Core.SketchPositions.Greedy,
                _ => throw Undefined(nameof(Positions), Positions),
            },
            NonzerosPerColumn, PrincipalMatrices, GreedyMatrices);
}
