using System;
using System.Collections.Generic;

namespace LowRank.Onnx;

/// <summary>How each layer's factors are chosen.</summary>
public enum CompressionMethod
{
    /// <summary>Truncated SVD of the weight, [A]_k: blind to the data; needs no calibration.</summary>
    Svd,

    /// <summary>Each layer alone, minimising its output change on the calibration inputs:
    /// A~ = C^(-1/2) [C^(1/2) A]_k (<see cref="LowRank.Compression.DataAware"/>).</summary>
    DataAware,

    /// <summary>Layers in graph order, each fitted to reproduce the original model's outputs from the inputs it receives
    /// in the model whose earlier layers are already compressed (<see cref="LowRank.Compression.MatchOutputs"/>), so errors
    /// do not pile up. The default.</summary>
    Sequential,
}

/// <summary>How the budget is spread over the layers.</summary>
public enum RankAllocation
{
    /// <summary>From the layers' whitened spectra, where each number buys the most (<see cref="ModelBudget.Allocate"/>).
    /// </summary>
    Spectrum,

    /// <summary>The same fraction in every layer (<see cref="ModelBudget.Uniform"/>).</summary>
    Uniform,

    /// <summary>From the whitened spectra, each layer's predicted error weighted by how much the model's output moves
    /// when that layer alone is compressed (at the uniform rank, on up to 64 calibration examples): layers the output is
    /// sensitive to get more of the budget (<see cref="ModelBudget.AllocateWeighted"/>). One extra run of the model on
    /// those examples per layer. The default (measured best on all-MiniLM-L6-v2, EXPERIMENTS.md); without calibration
    /// data (plain SVD) it is <see cref="Spectrum"/>.</summary>
    Sensitivity,
}

/// <summary>What to compress and how.</summary>
public sealed class ModelCompressionOptions
{
    /// <summary>The fraction f of the budget layers' weights kept, in (0, 1]: they store at most f sum n d numbers. Null
    /// (the default) means 0.5, or, with <see cref="TargetCosine"/>, no limit (1).</summary>
    public double? ParameterFraction { get; init; }

    /// <summary>When set, c in (0, 1): instead of filling the budget, ranks grow only until the predicted mean cosine of
    /// the model's pooled output to the original's reaches c (<see cref="ModelBudget.AllocateToTarget"/> with target
    /// 1 - c), within <see cref="ParameterFraction"/> when that is set too. The prediction is first-order: the sum over
    /// layers of each one's measured drop 1 - cos per unit of its predicted squared error (the sensitivity probes) times
    /// that error, so it needs <see cref="RankAllocation.Sensitivity"/> and calibration data; the achieved cosine is what
    /// an evaluation on held-out inputs measures (<see cref="CompressedModel.PredictedCosine"/> reports the prediction).
    /// </summary>
    public double? TargetCosine { get; init; }

    /// <summary>How each layer's factors are chosen.</summary>
    public CompressionMethod Method { get; init; } = CompressionMethod.Sequential;

    /// <summary>How the budget is spread over the layers.</summary>
    public RankAllocation Allocation { get; init; } = RankAllocation.Sensitivity;

    /// <summary>The layer kinds the budget covers (MatMul, Gemm and Conv by default; Gather tables are compressed only
    /// through <see cref="EmbeddingRank"/>).</summary>
    public IReadOnlyList<LayerKind> Kinds { get; init; } = [LayerKind.MatMul, LayerKind.Gemm, LayerKind.Conv];

    /// <summary>When set, only layers whose name matches this regular expression are in the budget (the others stay as
    /// they are): to compress part of a model, or to see which part costs how much fidelity.</summary>
    public string? NamePattern { get; init; }

    /// <summary>When &gt; 0, every vocabulary table (a Gather table with at least 4 times as many rows as columns) is
    /// replaced by rank-k factors from frequency-weighted svd_w: row weights sqrt(1 + the token's count in the calibration
    /// data) (<see cref="LowRank.Compression.RowWeighted"/>). 0 leaves tables dense.</summary>
    public int EmbeddingRank { get; init; }

    /// <summary>With <see cref="EmbeddingRank"/>: the rows of this many tokens, the most frequent in the calibration data,
    /// are kept exactly and only the other rows are factored, so a table is rank-k factors of the rare rows plus f exact
    /// rows: k (n + d) + f d numbers (and an index of n integers). Text is mostly frequent tokens: on all-MiniLM-L6-v2,
    /// 2,000 exact rows with rank 103 store as much as rank 128 alone and keep more of the held-out embeddings. 0 (the
    /// default) factors every row.</summary>
    public int EmbeddingExactRows { get; init; }

    /// <summary>True (the default) to weight each table row by sqrt(1 + its token's calibration count); false for plain
    /// truncated SVD of the table (every row alike), the baseline.</summary>
    public bool EmbeddingFrequencyWeights { get; init; } = true;

    /// <summary>True (the default) to store each factored MatMul in the pivoted form (<see cref="LowRank.PivotedFactors"/>):
    /// r of the approximation's own output columns and the coefficients of the others, r (n + d - r) numbers for the same
    /// rank-r matrix that Left Right stores in r (n + d), so the same budget buys a higher rank (written as MatMul,
    /// MatMul, Concat and Gather; needs opset 11, older models keep Left Right). False stores Left Right, as Gemm and
    /// Conv layers always do.</summary>
    public bool PivotedFactors { get; init; } = true;

    /// <summary>lambda relative to each covariance's mean eigenvalue, &gt; 0.</summary>
    public double Ridge { get; init; } = 1e-4;
}

/// <summary>Where a compression is: a stage, and how far through it.</summary>
/// <param name="Stage">"calibrating", "allocating", "compressing" or "sequential".</param>
/// <param name="Done">Steps done in the stage.</param>
/// <param name="Total">Steps in the stage.</param>
public sealed record ModelCompressionProgress(string Stage, int Done, int Total);
