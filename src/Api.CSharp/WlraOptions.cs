using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>Options of the iterative weighted algorithms; each algorithm reads the properties it uses.</summary>
public sealed record WlraOptions
{
    /// <summary>Iteration limit of em, em_w, als and adam. Default 25.</summary>
    public int MaxIterations { get; init; } = 25;

    /// <summary>Stop when an iteration lowers the loss by less than this fraction of it. Default 1e-6.</summary>
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>als's ridge term, relative to the largest squared weight. Default 1e-8.</summary>
    public double Ridge { get; init; } = 1e-8;

    /// <summary>adam's learning rate, relative to the root-mean-square entry of A. Default 1e-2.</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>Seed of sample's row sampling. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>sample's number of rows; 0 chooses 4 t ln(t + 1) + 10 for total rank t. Default 0.</summary>
    public int Samples { get; init; }

    /// <summary>em's starting point (n x d); null starts from 0.</summary>
    public Matrix<double>? WarmStart { get; init; }

    internal Core.WlraOptions ToCore() =>
        new(MaxIterations, Tolerance, Ridge, LearningRate, Seed, Samples,
            WarmStart is null ? null : Microsoft.FSharp.Core.FSharpOption<Matrix<double>>.Some(WarmStart));
}
