using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Google.Protobuf;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace LowRank.Onnx;

/// <summary>
/// Compressing a whole ONNX model under one parameter budget: every MatMul, Gemm and Conv with a constant weight becomes two
/// thin layers (or stays dense where factors would not be smaller), calibrated on the user's inputs through ONNX Runtime.
/// </summary>
public static partial class ModelCompression
{
    /// <summary>The compressible layers of a model.</summary>
    /// <param name="modelPath">An .onnx file.</param>
    /// <returns>The layers in graph order.</returns>
    /// <exception cref="System.IO.InvalidDataException">The file is not an ONNX model.</exception>
    public static IReadOnlyList<ModelLayer> Layers(string modelPath) => OnnxGraph.Layers(OnnxGraph.Read(modelPath));

    /// <summary>Compresses a model on a worker thread (see <see cref="Compress"/>).</summary>
    /// <param name="modelPath">The .onnx file.</param>
    /// <param name="calibration">Inputs that represent the model's use; null only for <see cref="CompressionMethod.Svd"/>
    /// without tables.</param>
    /// <param name="options">What to compress and how.</param>
    /// <param name="progress">Reports stages and steps; may be null.</param>
    /// <param name="cancellationToken">Stops between batches and between layers.</param>
    /// <returns>The compressed model.</returns>
    public static Task<CompressedModel> CompressAsync(
        string modelPath,
        CalibrationData? calibration,
        ModelCompressionOptions options,
        IProgress<ModelCompressionProgress>? progress = null,
        CancellationToken cancellationToken = default
    ) => Task.Run(() => Compress(modelPath, calibration, options, progress, cancellationToken), cancellationToken);

    /// <summary>
    /// Compresses a model: (1) one calibration pass accumulates each budget layer's input second moment C = X^T X / N
    /// (over patches for a Conv, padding excluded) and each table's token counts; (2) ranks are allocated under
    /// ParameterFraction (or up to TargetCosine) from the whitened spectra; (3) each layer is factored by the method, in graph order, the
    /// sequential method running the original and the partly compressed model side by side for each group of layers that
    /// share an input. Cost: one pass over the calibration data, plus one per group for the sequential method, and an
    /// eigendecomposition and an SVD per layer, O(n^3 + n^2 d).
    /// </summary>
    /// <param name="modelPath">The .onnx file.</param>
    /// <param name="calibration">The calibration inputs (null only for Svd without tables).</param>
    /// <param name="options">What to compress and how.</param>
    /// <param name="progress">Reports stages and steps; may be null.</param>
    /// <param name="cancellationToken">Stops between batches and between layers.</param>
    /// <returns>The compressed model and its per-layer report.</returns>
    /// <exception cref="System.IO.InvalidDataException">The file is not an ONNX model.</exception>
    /// <exception cref="ArgumentException">The model has no layer to compress, the options are invalid, or the calibration
    /// data does not fit the model.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static CompressedModel Compress(
        string modelPath,
        CalibrationData? calibration,
        ModelCompressionOptions options,
        IProgress<ModelCompressionProgress>? progress = null,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(options);
        Check(options, calibration);
        var model = OnnxGraph.Read(modelPath);
        var all = OnnxGraph.Layers(model);
        var pattern = options.NamePattern is null ? null : new System.Text.RegularExpressions.Regex(options.NamePattern);
        var budgetLayers = all.Where(l => l.Kind != LayerKind.Gather && options.Kinds.Contains(l.Kind)
            && (pattern is null || pattern.IsMatch(l.Name))).ToList();
        var tables = options.EmbeddingRank > 0
            ? all.Where(l => l.Kind == LayerKind.Gather && l.Inputs >= 4 * l.Outputs && options.EmbeddingRank < l.Outputs).ToList()
            : [];
        if (budgetLayers.Count == 0 && tables.Count == 0)
            throw new ArgumentException(
                $"'{modelPath}' has no layer to compress: no {string.Join(", ", options.Kinds)} node with a constant float weight"
                + (options.EmbeddingRank > 0 ? " and no vocabulary table" : "") + ".", nameof(modelPath));

        var calibrated = new Calibrated(model, budgetLayers, tables);
        if (options.Method != CompressionMethod.Svd || (tables.Count > 0 && options.EmbeddingFrequencyWeights))
            calibrated.Run(calibration!, progress, cancellationToken);

        progress?.Report(new ModelCompressionProgress("allocating", 0, budgetLayers.Count));
        var weights = budgetLayers.Select(l => Weight(model, l)).ToArray();
        var spectra = new double[budgetLayers.Count][];
        for (var i = 0; i < budgetLayers.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            spectra[i] = options.Method == CompressionMethod.Svd
                ? Svd.SingularValues(weights[i]).Select(s => s * s).ToArray()
                : LowRank.Compression.WhitenedSpectrum(weights[i], calibrated.Covariance(budgetLayers[i]), options.Ridge);
            progress?.Report(new ModelCompressionProgress("allocating", i + 1, budgetLayers.Count));
        }
        var inputs = budgetLayers.Select(l => l.Inputs).ToArray();
        var outputs = budgetLayers.Select(l => l.Outputs).ToArray();
        var pivoted = Pivoted(model, budgetLayers, options);
        var fraction = options.ParameterFraction ?? (options.TargetCosine is null ? DefaultFraction : 1.0);
        var importance = budgetLayers.Count > 0 && options.Allocation == RankAllocation.Sensitivity && calibration is not null
            ? Sensitivities(model, budgetLayers, weights, spectra, pivoted, calibrated, calibration, options, progress, cancellationToken)
            : null;
        var ranks = budgetLayers.Count == 0 ? []
            : options.Allocation == RankAllocation.Uniform ? ModelBudget.UniformPivoted(fraction, inputs, outputs, spectra, pivoted)
            : options.TargetCosine is { } cosine ? ModelBudget.AllocateToTarget(1 - cosine, Budget(fraction, budgetLayers), inputs, outputs, spectra,
                importance!, pivoted)
            : ModelBudget.AllocatePivoted(Budget(fraction, budgetLayers), inputs, outputs, spectra,
                importance ?? Enumerable.Repeat(1.0, budgetLayers.Count).ToArray(), pivoted);
        // First order: each layer's measured drop of the cosine per unit of predicted squared error, times that error.
        double? predictedCosine = importance is null ? null : 1 - importance.Zip(ranks, (w, r) => w * r.PredictedError * r.PredictedError).Sum();

        var factors = new Dictionary<string, OnnxGraph.Factors>();
        var reports = new Dictionary<string, LayerReport>();
        var steps = budgetLayers.Count + tables.Count;
        var done = 0;
        void Record(ModelLayer layer, LayerRank rank, double error, OnnxGraph.Factors? f) =>
            Add(layer, rank.Rank, rank.KeepsDense, rank.Parameters, rank.PredictedError, error, f is null ? null : Form(rank, f));
        void Add(ModelLayer layer, int rank, bool dense, long parameters, double predicted, double error, OnnxGraph.Factors? f)
        {
            if (f is not null)
                factors[layer.Name] = f;
            // A pivoted form keeps fewer than k columns where the factors have numerical rank below k: report what it stores.
            var pivoted = f?.Pivoted;
            reports[layer.Name] = new LayerReport(layer, pivoted?.Rank ?? rank, dense, pivoted is not null,
                pivoted?.Parameters ?? parameters, predicted, error);
            progress?.Report(new ModelCompressionProgress("compressing", ++done, steps));
        }

        if (options.Method == CompressionMethod.Sequential)
            Sequential(model, budgetLayers, weights, ranks, calibrated, calibration!, options, Record, progress, cancellationToken);
        else
            for (var i = 0; i < budgetLayers.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (ranks[i].KeepsDense)
                {
                    Record(budgetLayers[i], ranks[i], 0, null);
                    continue;
                }
                if (options.Method == CompressionMethod.Svd)
                {
                    var best = Svd.BestRankK(weights[i], ranks[i].Rank);
                    var whole = Norm.Frobenius(weights[i]);
                    Record(budgetLayers[i], ranks[i], whole > 0 ? Svd.OptimalError(weights[i], ranks[i].Rank) / whole : 0,
                        new OnnxGraph.Factors(best.Left, best.Right));
                }
                else
                {
                    var layer = LowRank.Compression.DataAware(weights[i], calibrated.Covariance(budgetLayers[i]), ranks[i].Rank, options.Ridge);
                    Record(budgetLayers[i], ranks[i], layer.RelativeObjective, new OnnxGraph.Factors(layer.Left, layer.Right));
                }
            }

        foreach (var table in tables)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var a = Weight(model, table);
            var rowWeights = options.EmbeddingFrequencyWeights
                ? calibrated.TokenCounts(table).Select(c => Math.Sqrt(1 + c)).ToArray()
                : Enumerable.Repeat(1.0, table.Inputs).ToArray();
            if (options.EmbeddingExactRows > 0)
            {
                var (parameters, error, f) = WithExactRows(a, rowWeights, calibrated.TokenCounts(table), options);
                Add(table, f.Left.ColumnCount, false, parameters, error, error, f);
                continue;
            }
            var layer = LowRank.Compression.RowWeighted(a, rowWeights, options.EmbeddingRank);
            Add(table, layer.Rank, false, layer.Parameters, layer.RelativeObjective, layer.RelativeObjective,
                new OnnxGraph.Factors(layer.Left, layer.Right));
        }

        var order = all.Where(l => reports.ContainsKey(l.Name)).Select(l => reports[l.Name]).ToList();
        return new CompressedModel(OnnxGraph.Rewrite(model, all, factors, absorbOrder: true), order, calibration?.Truncated ?? 0,
            predictedCosine);
    }

    /// <summary>A table as rank-k factors of its rare rows plus its f most frequent rows exactly (ties by token id): the
    /// rare rows by frequency-weighted svd_w among themselves, the frequent rows' factor rows zero, so that Left Right +
    /// the exact rows reproduces the table's frequent rows exactly. Returns the numbers stored, the weighted relative
    /// error over the whole table, and the factors.</summary>
    private static (long Parameters, double Error, OnnxGraph.Factors Factors) WithExactRows(
        Matrix<double> a, double[] rowWeights, double[] counts, ModelCompressionOptions options)
    {
        int n = a.RowCount, d = a.ColumnCount;
        var exact = Math.Min(options.EmbeddingExactRows, n - 1);
        var tokens = Enumerable.Range(0, n).OrderByDescending(t => counts[t]).ThenBy(t => t).Take(exact).Order().ToArray();
        var isExact = new bool[n];
        foreach (var t in tokens)
            isExact[t] = true;
        var rare = Enumerable.Range(0, n).Where(t => !isExact[t]).ToArray();
        var rareRows = Matrix<double>.Build.DenseOfRowVectors(rare.Select(a.Row));
        var rank = Math.Min(options.EmbeddingRank, Math.Min(rare.Length, d));
        var layer = LowRank.Compression.RowWeighted(rareRows, rare.Select(t => rowWeights[t]).ToArray(), rank);
        var left = Matrix<double>.Build.Dense(n, layer.Left.ColumnCount);
        for (var i = 0; i < rare.Length; i++)
            left.SetRow(rare[i], layer.Left.Row(i));
        var rows = Matrix<double>.Build.DenseOfRowVectors(tokens.Select(a.Row));
        // RelativeObjective is relative to the rare rows' weighted norm; the exact rows add nothing to the error.
        var norms = a.RowNorms(2.0);
        double Weighted(IEnumerable<int> which) => Math.Sqrt(which.Sum(t => rowWeights[t] * rowWeights[t] * norms[t] * norms[t]));
        var whole = Weighted(Enumerable.Range(0, n));
        var error = whole > 0 ? layer.RelativeObjective * Weighted(rare) / whole : 0;
        return ((long)layer.Left.ColumnCount * (n + d) + (long)tokens.Length * d, error,
            new OnnxGraph.Factors(left, layer.Right, Exact: new OnnxGraph.ExactRows(tokens, rows)));
    }

    /// <summary>The layer's weight, with its outputs' mean taken out when the layer feeds only a layer normalisation:
    /// A (I - 1 1^T / d) changes each output row by a multiple of (1, ..., 1), which the normalisation removes, so the
    /// factors need not spend rank on it (worth a rank wherever the rows share a mean direction).</summary>
    private static Matrix<double> Weight(ModelProto model, ModelLayer layer)
    {
        var a = OnnxGraph.Weight(model, layer);
        if (layer.Kind == LayerKind.Conv || !OnnxGraph.FeedsLayerNorm(model, model.Graph.Node[layer.NodeIndex].Output[0]))
            return a;
        var means = a.RowSums() / a.ColumnCount;
        for (var j = 0; j < a.ColumnCount; j++)
            a.SetColumn(j, a.Column(j) - means);
        return a;
    }

    /// <summary>Each layer's importance: the drop 1 - cos of the model's pooled output when that layer alone is factored at
    /// the uniform rank, divided by the relative squared output error its spectrum predicts there (a first-order model of
    /// how the output responds to that layer's error). Layers that stay dense at the uniform rank get the mean.</summary>
    private static double[] Sensitivities(
        ModelProto model,
        List<ModelLayer> layers,
        Matrix<double>[] weights,
        double[][] spectra,
        bool[] pivoted,
        Calibrated calibrated,
        CalibrationData calibration,
        ModelCompressionOptions options,
        IProgress<ModelCompressionProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        var probe = calibration.Count > 64 ? calibration.Slice(0, 64) : calibration;
        if (probe.Count < 2)
            throw new ArgumentException($"Sensitivity allocation needs at least 2 calibration examples, but there are {probe.Count}.",
                nameof(calibration));
        // Probed at the budget's uniform rank, or at the default fraction when the budget is a target.
        var uniform = ModelBudget.UniformPivoted(options.ParameterFraction ?? DefaultFraction, layers.Select(l => l.Inputs).ToArray(),
            layers.Select(l => l.Outputs).ToArray(), spectra, pivoted);
        var original = OnnxSource.Bytes(model.ToByteArray());
        var importance = new double[layers.Count];
        for (var i = 0; i < layers.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            importance[i] = double.NaN;
            if (!uniform[i].KeepsDense && uniform[i].PredictedError > 0)
            {
                var factors = options.Method == CompressionMethod.Svd
                    ? Svd.BestRankK(weights[i], uniform[i].Rank) is var best ? new OnnxGraph.Factors(best.Left, best.Right) : null
                    : LowRank.Compression.DataAware(weights[i], calibrated.Covariance(layers[i]), uniform[i].Rank, options.Ridge) is var layer
                        ? new OnnxGraph.Factors(layer.Left, layer.Right)
                        : null;
                var single = OnnxGraph.Rewrite(model, layers, new Dictionary<string, OnnxGraph.Factors> { [layers[i].Name] = Form(uniform[i], factors!) });
                var fidelity = ModelFidelity.Evaluate(original, OnnxSource.Bytes(single.ToByteArray()), probe, null, cancellationToken);
                importance[i] = Math.Max(0, 1 - fidelity.MeanCosine) / (uniform[i].PredictedError * uniform[i].PredictedError);
            }
            progress?.Report(new ModelCompressionProgress("probing", i + 1, layers.Count));
        }
        var measured = importance.Where(double.IsFinite).ToArray();
        var fallback = measured.Length > 0 ? measured.Average() : 1.0;
        return importance.Select(x => double.IsFinite(x) ? x : fallback).ToArray();
    }

    /// <summary>Which budget layers are stored in the pivoted form: MatMuls, when the options ask for it and the model's
    /// opset has Concat and Gather on a negative axis.</summary>
    private static bool[] Pivoted(ModelProto model, List<ModelLayer> layers, ModelCompressionOptions options)
    {
        var allowed = options.PivotedFactors && OnnxGraph.AllowsPivotedForm(model);
        return layers.Select(l => allowed && l.Kind == LayerKind.MatMul).ToArray();
    }

    /// <summary>The factors as the rewrite stores them: pivoted where the allocation priced them so.</summary>
    private static OnnxGraph.Factors Form(LayerRank rank, OnnxGraph.Factors f) =>
        rank.Pivoted && f.Pivoted is null ? f with { Pivoted = PivotedFactors.OfFactors(f.Left, f.Right) } : f;

    /// <summary>The fraction kept when the options set neither ParameterFraction nor TargetCosine.</summary>
    private const double DefaultFraction = 0.5;

    private static long Budget(double fraction, IReadOnlyList<ModelLayer> layers) =>
        (long)Math.Floor(fraction * layers.Sum(l => (double)l.Parameters));

    private static void Check(ModelCompressionOptions options, CalibrationData? calibration)
    {
        if (options.ParameterFraction is { } fraction && !(fraction > 0 && fraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), fraction, $"Expected ParameterFraction in (0, 1], but it is {fraction}.");
        if (options.TargetCosine is { } cosine)
        {
            if (!(cosine > 0 && cosine < 1))
                throw new ArgumentOutOfRangeException(nameof(options), cosine, $"Expected TargetCosine in (0, 1), but it is {cosine}.");
            if (options.Allocation != RankAllocation.Sensitivity || calibration is null)
                throw new ArgumentException(
                    $"TargetCosine is predicted from sensitivity probes: it needs Allocation = Sensitivity and calibration data, but the allocation is {options.Allocation}{(calibration is null ? " and there is no calibration data" : "")}.",
                    nameof(options));
        }
        if (!Enum.IsDefined(options.Method))
            throw new ArgumentOutOfRangeException(nameof(options), options.Method, $"Expected a CompressionMethod, but it is {(int)options.Method}.");
        if (!Enum.IsDefined(options.Allocation))
            throw new ArgumentOutOfRangeException(nameof(options), options.Allocation, $"Expected a RankAllocation, but it is {(int)options.Allocation}.");
        if (options.EmbeddingRank < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.EmbeddingRank, $"Expected EmbeddingRank >= 0, but it is {options.EmbeddingRank}.");
        if (options.EmbeddingExactRows < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.EmbeddingExactRows,
                $"Expected EmbeddingExactRows >= 0, but it is {options.EmbeddingExactRows}.");
        if (options.EmbeddingExactRows > 0 && options.EmbeddingRank == 0)
            throw new ArgumentException($"EmbeddingExactRows = {options.EmbeddingExactRows} keeps rows of a factored table, but EmbeddingRank is 0 (no table is factored).",
                nameof(options));
        if (!(options.Ridge > 0 && double.IsFinite(options.Ridge)))
            throw new ArgumentOutOfRangeException(nameof(options), options.Ridge, $"Expected a finite Ridge > 0, but it is {options.Ridge}.");
        if (options.Kinds is null || options.Kinds.Count == 0)
            throw new ArgumentException("Expected at least one layer kind in Kinds, but there is none.", nameof(options));
        if (calibration is null && (options.Method != CompressionMethod.Svd
                || (options.EmbeddingRank > 0 && (options.EmbeddingFrequencyWeights || options.EmbeddingExactRows > 0))))
            throw new ArgumentNullException(nameof(calibration),
                $"The {options.Method} method{(options.EmbeddingRank > 0 ? " with an embedding rank" : "")} needs calibration data, but none was given.");
    }

    private static void Sequential(
        ModelProto model,
        List<ModelLayer> layers,
        Matrix<double>[] weights,
        LayerRank[] ranks,
        Calibrated calibrated,
        CalibrationData calibration,
        ModelCompressionOptions options,
        Action<ModelLayer, LayerRank, double, OnnxGraph.Factors?> record,
        IProgress<ModelCompressionProgress>? progress,
        CancellationToken cancellationToken
    )
    {
        // Groups of layers that read the same rows (the same tensor, and for Convs the same patches), in graph order.
        var groups = layers.Select((layer, index) => (layer, index)).GroupBy(p => calibrated.Key(p.layer)).ToList();
        var current = new Dictionary<string, OnnxGraph.Factors>();
        var graphInputs = model.Graph.Input.Select(i => i.Name).ToHashSet();
        for (var g = 0; g < groups.Count; g++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var members = groups[g].ToList();
            if (members.All(p => ranks[p.index].KeepsDense))
            {
                foreach (var (layer, index) in members)
                    record(layer, ranks[index], 0, null);
                continue;
            }
            var first = members[0].layer;
            Matrix<double> c, shifted, cross;
            if (current.Count == 0 || graphInputs.Contains(first.InputName))
            {
                // Nothing upstream has changed yet (or the layer reads a model input): X' = X.
                c = calibrated.Covariance(first);
                shifted = c;
                cross = c;
            }
            else
            {
                var partial = OnnxGraph.Rewrite(model, layers, current);
                // Both models only up to this group's input: the rest of the graph does not change what it sees.
                using var original = new InferenceSession(OnnxGraph.Prefix(model, [first.InputName]));
                using var session = new InferenceSession(OnnxGraph.Prefix(partial, [first.InputName]));
                var n = first.Inputs;
                var moment = new Moment(2 * n);
                foreach (var batch in calibration.Batches(original))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var before = original.Run(batch.Inputs, [first.InputName]);
                    using var after = session.Run(batch.Inputs, [first.InputName]);
                    var x = calibrated.Rows(first, before.First().AsTensor<float>(), batch);
                    var shiftedRows = calibrated.Rows(first, after.First().AsTensor<float>(), batch);
                    moment.Add(LayerRows.Stack(shiftedRows, x));
                }
                var all = moment.Covariance();
                shifted = all.SubMatrix(0, n, 0, n);
                cross = all.SubMatrix(0, n, n, n);
                c = all.SubMatrix(n, n, n, n);
            }
            foreach (var (layer, index) in members)
            {
                if (ranks[index].KeepsDense)
                {
                    record(layer, ranks[index], 0, null);
                    continue;
                }
                var result = LowRank.Compression.MatchOutputs(weights[index], c, shifted, cross, ranks[index].Rank, options.Ridge);
                var f = Form(ranks[index], new OnnxGraph.Factors(result.Left, result.Right));
                current[layer.Name] = f;
                record(layer, ranks[index], result.RelativeObjective, f);
            }
            progress?.Report(new ModelCompressionProgress("sequential", g + 1, groups.Count));
        }
    }
}
