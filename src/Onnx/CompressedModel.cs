using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using Onnx;

namespace LowRank.Onnx;

/// <summary>What happened to one layer.</summary>
public sealed class LayerReport
{
    internal LayerReport(ModelLayer layer, int rank, bool keepsDense, bool pivoted, long parameters, double predictedError, double relativeError)
    {
        Layer = layer;
        Rank = rank;
        KeepsDense = keepsDense;
        Pivoted = pivoted;
        Parameters = parameters;
        PredictedError = predictedError;
        RelativeError = relativeError;
    }

    /// <summary>The layer.</summary>
    public ModelLayer Layer { get; }

    /// <summary>k (min(n, d) when dense).</summary>
    public int Rank { get; }

    /// <summary>True when the layer kept its dense weight.</summary>
    public bool KeepsDense { get; }

    /// <summary>True when the factors are stored in the pivoted form (<see cref="LowRank.PivotedFactors"/>), k (n + d - k)
    /// numbers.</summary>
    public bool Pivoted { get; }

    /// <summary>Numbers the layer stores now.</summary>
    public long Parameters { get; }

    /// <summary>The allocator's predicted relative output error (0 when dense).</summary>
    public double PredictedError { get; }

    /// <summary>The relative error of the method's own objective at the result: ||X (A - A~)|| / ||X A|| on the
    /// calibration inputs (data-aware), ||X A - X' A~|| / ||X A|| (sequential), ||A - A~||_F / ||A||_F (svd),
    /// ||D (A - A~)||_F / ||D A||_F (tables); 0 when dense.</summary>
    public double RelativeError { get; }
}

/// <summary>A compressed model, ready to save, with what each layer became.</summary>
public sealed class CompressedModel
{
    private readonly ModelProto model;

    internal CompressedModel(ModelProto model, IReadOnlyList<LayerReport> layers, int truncated, double? predictedCosine)
    {
        this.model = model;
        Layers = layers;
        TruncatedExamples = truncated;
        PredictedCosine = predictedCosine;
    }

    /// <summary>One report per layer the compression covered (budget layers, then tables), in graph order.</summary>
    public IReadOnlyList<LayerReport> Layers { get; }

    /// <summary>Numbers in those layers before.</summary>
    public long ParametersBefore => Layers.Sum(l => l.Layer.Parameters);

    /// <summary>Numbers in those layers after.</summary>
    public long ParametersAfter => Layers.Sum(l => l.Parameters);

    /// <summary>With sensitivity allocation, the first-order prediction of the mean cosine of the model's pooled output to
    /// the original's from the budget layers' compression: 1 - sum_l w_l e_l^2, w_l each layer's measured drop of the
    /// cosine per unit of squared predicted error, e_l its <see cref="LayerReport.PredictedError"/> (tables are not in
    /// it); null for other allocations. A prediction: an evaluation on held-out inputs measures what is achieved.</summary>
    public double? PredictedCosine { get; }

    /// <summary>Calibration examples that were cut to the token limit.</summary>
    public int TruncatedExamples { get; }

    /// <summary>The model as ONNX bytes.</summary>
    /// <returns>A new array.</returns>
    public byte[] ToBytes() => model.ToByteArray();

    /// <summary>Writes the model to a temporary file beside <paramref name="path"/>, then renames it (nothing is left
    /// half-written).</summary>
    /// <param name="path">The .onnx file to write; its folder must exist.</param>
    /// <exception cref="System.IO.IOException">The file cannot be written.</exception>
    public void Save(string path) => OnnxGraph.WriteAtomically(path, ToBytes());
}
