using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>
/// The permanent bad-input catalogue (issue 12): one row per case, the call, the exception type it must throw (exactly,
/// not a subclass) and the argument it must name. Rows are generated over the facade: every entry point that takes a
/// matrix gets null, empty and non-finite ones; every rank parameter gets 0, -1 and min(n, d) + 1; every option gets
/// each of its out-of-range values; shapes that do not fit are crossed with the methods that check them.
/// </summary>
public class BadInputCatalogue
{
    public sealed record BadInput(Action Call, Type Exception, string? Parameter);

    private static readonly Matrix<double> A = Matrix<double>.Build.Random(8, 6, 1);
    private static readonly Weights W = Weights.FromMatrix(Matrix<double>.Build.Dense(8, 6, (i, j) => 1 + (i + j) % 3));
    private static readonly Weights WrongShapeWeights = Weights.FromMatrix(Matrix<double>.Build.Dense(7, 6, 1.0));
    private static readonly Sketch S = Sketch.CountSketch(4, 8, 2);

    /// <summary>The bytes with `field` written at `offset` and the CRC-32 recomputed.</summary>
    private static byte[] Forged(byte[] bytes, int offset, byte[] field)
    {
        var copy = (byte[])bytes.Clone();
        field.CopyTo(copy, offset);
        return Crc32.Resealed(copy);
    }

    private static byte[] Forged(byte[] bytes, int offset, double value) => Forged(bytes, offset, BitConverter.GetBytes(value));

    private static Matrix<double> WithEntry(double value)
    {
        var m = A.Clone();
        m[2, 3] = value;
        return m;
    }

    /// <summary>Bad matrices and what each must raise.</summary>
    private static readonly (string Name, Matrix<double>? Matrix, Type Exception)[] BadMatrices =
    [
        ("null", null, typeof(ArgumentNullException)),
        ("0 x 6", Matrix<double>.Build.Dense(0, 6), typeof(ArgumentException)),
        ("8 x 0", Matrix<double>.Build.Dense(8, 0), typeof(ArgumentException)),
        ("NaN", WithEntry(double.NaN), typeof(ArgumentException)),
        ("+Inf", WithEntry(double.PositiveInfinity), typeof(ArgumentException)),
        ("-Inf", WithEntry(double.NegativeInfinity), typeof(ArgumentException)),
    ];

    /// <summary>Entry points taking one matrix named "matrix" (or another name) and otherwise valid arguments.</summary>
    private static readonly (string Name, string Parameter, Action<Matrix<double>> Call)[] MatrixEntryPoints =
    [
        ("Svd.SingularValues", "matrix", m => Svd.SingularValues(m)),
        ("Svd.NumericalRank", "matrix", m => Svd.NumericalRank(m)),
        ("Svd.BestRankK", "matrix", m => Svd.BestRankK(m, 2)),
        ("Svd.OptimalError", "matrix", m => Svd.OptimalError(m, 2)),
        ("Scw.Approximate", "matrix", m => Scw.Approximate(m, S, 2)),
        ("Scw.Error", "matrix", m => Scw.Error(m, S, 2)),
        ("Sketch.Apply", "matrix", m => S.Apply(m)),
        ("Sketch.ApplyToRowBlock", "block", m => S.ApplyToRowBlock(0, m)),
        ("Sketch.FromMatrix", "matrix", m => Sketch.FromMatrix(m)),
        ("Weights.FromMatrix", "weights", m => Weights.FromMatrix(m)),
        ("Weights.FromFactors(left)", "left", m => Weights.FromFactors(m, Matrix<double>.Build.Dense(6, 6, 1.0))),
        ("Weights.FromFactors(right)", "right", m => Weights.FromFactors(Matrix<double>.Build.Dense(8, 6, 1.0), m)),
        ("Wlra.Svd", "matrix", m => Wlra.Svd(m, W, 2)),
        ("Wlra.SvdW", "matrix", m => Wlra.SvdW(m, W, 2)),
        ("Wlra.SvdWBudget", "matrix", m => Wlra.SvdWBudget(m, W, 2)),
        ("Wlra.SvdWPractical", "matrix", m => Wlra.SvdWPractical(m, W, 2)),
        ("Wlra.Em", "matrix", m => Wlra.Em(m, W, 2)),
        ("Wlra.EmW", "matrix", m => Wlra.EmW(m, W, 2)),
        ("Wlra.Als", "matrix", m => Wlra.Als(m, W, 2)),
        ("Wlra.Adam", "matrix", m => Wlra.Adam(m, W, 2)),
        ("Wlra.Greedy", "matrix", m => Wlra.Greedy(m, W, 2)),
        ("Wlra.Sample", "matrix", m => Wlra.Sample(m, W, 2)),
        ("Wlra.ColumnSubset", "matrix", m => Wlra.ColumnSubset(m, W, 1, 4)),
        ("Protocol.Send", "matrix", m => Protocol.Send(m, W, 1, 4)),
        ("Compression.InputCovariance", "inputs", m => Compression.InputCovariance(m)),
        ("Compression.DataAware(layer)", "layer", m => Compression.DataAware(m, Matrix<double>.Build.DenseIdentity(8), 2)),
        ("Compression.DataAware(covariance)", "covariance", m => Compression.DataAware(A, m, 2)),
        ("Compression.TwoSided(outputCovariance)", "outputCovariance",
            m => Compression.TwoSided(A, Matrix<double>.Build.DenseIdentity(8), m, 2)),
        ("PivotedFactors.OfFactors(left)", "left", m => PivotedFactors.OfFactors(m, Matrix<double>.Build.Dense(6, 4, 1.0))),
        ("PivotedFactors.OfFactors(right)", "right", m => PivotedFactors.OfFactors(Matrix<double>.Build.Dense(3, 8, 1.0), m)),
    ];

    /// <summary>Entry points with a rank argument named "rank" (min(n, d) = 6 for A).</summary>
    private static readonly (string Name, string Parameter, Action<int> Call)[] RankEntryPoints =
    [
        ("Svd.BestRankK", "rank", k => Svd.BestRankK(A, k)),
        ("Svd.OptimalError", "rank", k => Svd.OptimalError(A, k)),
        ("Scw.Approximate", "rank", k => Scw.Approximate(A, Sketch.CountSketch(7, 8, 1), k)),
        ("Scw.Error", "rank", k => Scw.Error(A, Sketch.CountSketch(7, 8, 1), k)),
        ("Wlra.Svd", "rank", k => Wlra.Svd(A, W, k)),
        ("Wlra.SvdW", "rank", k => Wlra.SvdW(A, W, k)),
        ("Wlra.SvdWBudget", "totalRank", k => Wlra.SvdWBudget(A, W, k)),
        ("Wlra.SvdWPractical", "rank", k => Wlra.SvdWPractical(A, W, k)),
        ("Wlra.Em", "rank", k => Wlra.Em(A, W, k)),
        ("Wlra.EmW", "rank", k => Wlra.EmW(A, W, k)),
        ("Wlra.Als", "rank", k => Wlra.Als(A, W, k)),
        ("Wlra.Adam", "rank", k => Wlra.Adam(A, W, k)),
        ("Wlra.Greedy", "rank", k => Wlra.Greedy(A, W, k)),
        ("Wlra.Sample", "rank", k => Wlra.Sample(A, W, k)),
        ("Compression.DataAware", "rank", k => Compression.DataAware(A, Matrix<double>.Build.DenseIdentity(8), k)),
        ("Compression.TwoSided", "rank",
            k => Compression.TwoSided(A, Matrix<double>.Build.DenseIdentity(8), Matrix<double>.Build.DenseIdentity(6), k)),
    ];

    /// <summary>Out-of-range options of the weighted methods, each with the methods that read it.</summary>
    private static readonly (string Name, WlraOptions Options, string[] Methods)[] BadOptions =
    [
        ("MaxIterations = 0", new WlraOptions { MaxIterations = 0 }, ["Em", "EmW", "Als", "SvdWPractical"]),
        ("MaxIterations = -3", new WlraOptions { MaxIterations = -3 }, ["Em", "EmW", "Als"]),
        ("Tolerance = -1", new WlraOptions { Tolerance = -1 }, ["Em", "EmW", "Als", "Adam"]),
        ("Tolerance = NaN", new WlraOptions { Tolerance = double.NaN }, ["Em", "Als", "Adam"]),
        ("Ridge = -1", new WlraOptions { Ridge = -1 }, ["Als"]),
        ("Ridge = +Inf", new WlraOptions { Ridge = double.PositiveInfinity }, ["Als"]),
        ("LearningRate = 0", new WlraOptions { LearningRate = 0 }, ["Adam"]),
        ("LearningRate = +Inf", new WlraOptions { LearningRate = double.PositiveInfinity }, ["Adam"]),
        ("LearningRate = NaN", new WlraOptions { LearningRate = double.NaN }, ["Adam"]),
        ("AdamSteps = 0", new WlraOptions { AdamSteps = 0 }, ["Adam"]),
        ("WeightRank = -1", new WlraOptions { WeightRank = -1 }, ["SvdW", "SvdWPractical", "EmW", "Sample"]),
        ("TotalRank = -1", new WlraOptions { TotalRank = -1 }, ["SvdW", "SvdWPractical", "Sample"]),
        ("TotalRank = 7 > min(n, d)", new WlraOptions { TotalRank = 7 }, ["SvdW", "SvdWPractical", "Sample", "EmW"]),
        ("EnergyFraction = 0", new WlraOptions { EnergyFraction = 0 }, ["SvdW", "SvdWPractical", "Sample", "EmW"]),
        ("EnergyFraction = 1.5", new WlraOptions { EnergyFraction = 1.5 }, ["SvdW", "SvdWPractical", "Sample"]),
        ("WeightFloor = -0.1", new WlraOptions { WeightFloor = -0.1 }, ["SvdW", "SvdWPractical", "Sample"]),
        ("WeightFloor = 1", new WlraOptions { WeightFloor = 1 }, ["SvdW", "SvdWPractical", "Sample"]),
        ("Samples = -1", new WlraOptions { Samples = -1 }, ["Sample"]),
        ("WeightRank = 2 with k = 4", new WlraOptions { WeightRank = 2 }, ["SvdW4", "SvdWPractical4", "Sample4"]),
    ];

    private static Action WeightedCall(string method, WlraOptions options) => method switch
    {
        "Em" => () => Wlra.Em(A, W, 2, options),
        "EmW" => () => Wlra.EmW(A, W, 2, options),
        "Als" => () => Wlra.Als(A, W, 2, options),
        "Adam" => () => Wlra.Adam(A, W, 2, options),
        "SvdW" => () => Wlra.SvdW(A, W, 2, options),
        "SvdWPractical" => () => Wlra.SvdWPractical(A, W, 2, options),
        "Sample" => () => Wlra.Sample(A, W, 2, options),
        "SvdW4" => () => Wlra.SvdW(A, W, 4, options),
        "SvdWPractical4" => () => Wlra.SvdWPractical(A, W, 4, options),
        "Sample4" => () => Wlra.Sample(A, W, 4, options),
        _ => throw new ArgumentException(method),
    };

    private static IEnumerable<(string Name, BadInput Input)> Generate()
    {
        foreach (var (entry, parameter, call) in MatrixEntryPoints)
        foreach (var (name, matrix, exception) in BadMatrices)
            yield return ($"{entry} with a {name} {parameter}", new BadInput(() => call(matrix!), exception, parameter));

        foreach (var (entry, parameter, call) in RankEntryPoints)
        foreach (var k in new[] { 0, -1, 7, int.MinValue })
            yield return ($"{entry} with {parameter} = {k}", new BadInput(() => call(k), typeof(ArgumentOutOfRangeException), parameter));

        foreach (var (name, options, methods) in BadOptions)
        foreach (var method in methods)
        {
            var parameter = name.StartsWith("WeightRank = 2", StringComparison.Ordinal) ? "rank" : "options";
            yield return ($"Wlra.{method} with {name}", new BadInput(WeightedCall(method, options), typeof(ArgumentOutOfRangeException), parameter));
        }

        // Weights of another shape than A, for every method that takes both.
        foreach (var (name, call) in new (string, Action)[]
                 {
                     ("Svd", () => Wlra.Svd(A, WrongShapeWeights, 2)), ("SvdW", () => Wlra.SvdW(A, WrongShapeWeights, 2)),
                     ("SvdWBudget", () => Wlra.SvdWBudget(A, WrongShapeWeights, 2)),
                     ("SvdWPractical", () => Wlra.SvdWPractical(A, WrongShapeWeights, 2)), ("Em", () => Wlra.Em(A, WrongShapeWeights, 2)),
                     ("EmW", () => Wlra.EmW(A, WrongShapeWeights, 2)), ("Als", () => Wlra.Als(A, WrongShapeWeights, 2)),
                     ("Adam", () => Wlra.Adam(A, WrongShapeWeights, 2)), ("Greedy", () => Wlra.Greedy(A, WrongShapeWeights, 2)),
                     ("Sample", () => Wlra.Sample(A, WrongShapeWeights, 2)),
                     ("ColumnSubset", () => Wlra.ColumnSubset(A, WrongShapeWeights, 1, 4)),
                     ("Loss", () => Wlra.Loss(A, WrongShapeWeights, Wlra.Svd(A, W, 2))),
                 })
            yield return ($"Wlra.{name} with weights of another shape", new BadInput(call, typeof(ArgumentException), "weights"));

        // Null weights, for every method that takes them.
        foreach (var (name, call) in new (string, Action)[]
                 {
                     ("Svd", () => Wlra.Svd(A, null!, 2)), ("SvdW", () => Wlra.SvdW(A, null!, 2)),
                     ("SvdWBudget", () => Wlra.SvdWBudget(A, null!, 2)), ("SvdWPractical", () => Wlra.SvdWPractical(A, null!, 2)),
                     ("Em", () => Wlra.Em(A, null!, 2)), ("EmW", () => Wlra.EmW(A, null!, 2)), ("Als", () => Wlra.Als(A, null!, 2)),
                     ("Adam", () => Wlra.Adam(A, null!, 2)), ("Greedy", () => Wlra.Greedy(A, null!, 2)),
                     ("Sample", () => Wlra.Sample(A, null!, 2)), ("ColumnSubset", () => Wlra.ColumnSubset(A, null!, 1, 4)),
                 })
            yield return ($"Wlra.{name} with null weights", new BadInput(call, typeof(ArgumentNullException), "weights"));

        // Sketches that do not fit, or are null.
        var narrow = Sketch.CountSketch(4, 7, 1);
        foreach (var (name, call) in new (string, Action)[]
                 {
                     ("Scw.Approximate", () => Scw.Approximate(A, narrow, 2)), ("Scw.Error", () => Scw.Error(A, narrow, 2)),
                     ("Sketch.Apply", () => narrow.Apply(A)), ("Scw.TestError", () => Scw.TestError([A], narrow, 2)),
                 })
            yield return ($"{name} with a sketch of 7 columns for 8 rows", new BadInput(call, typeof(ArgumentException), "sketch"));
        foreach (var (name, call) in new (string, Action)[]
                 {
                     ("Scw.Approximate", () => Scw.Approximate(A, null!, 2)), ("Scw.Error", () => Scw.Error(A, null!, 2)),
                     ("Scw.TestError", () => Scw.TestError([A], null!, 2)), ("SketchFile.ToBytes", () => SketchFile.ToBytes(null!)),
                 })
            yield return ($"{name} with a null sketch", new BadInput(call, typeof(ArgumentNullException), "sketch"));
        yield return ("Scw.Approximate with fewer sketch rows than k",
            new BadInput(() => Scw.Approximate(A, Sketch.CountSketch(2, 8, 1), 3), typeof(ArgumentException), "sketch"));

        // Sketch construction.
        foreach (var (name, call, parameter) in new (string, Action, string)[]
                 {
                     ("CountSketch rows = 0", () => Sketch.CountSketch(0, 5, 1), "rows"),
                     ("CountSketch columns = 0", () => Sketch.CountSketch(3, 0, 1), "columns"),
                     ("CountSketch rows = -2", () => Sketch.CountSketch(-2, 5, 1), "rows"),
                     ("Gaussian rows = 0", () => Sketch.Gaussian(0, 5, 1), "rows"),
                     ("Gaussian columns = -1", () => Sketch.Gaussian(3, -1, 1), "columns"),
                     ("Identity size = 0", () => Sketch.Identity(0), "size"),
                     ("FromCountSketch hash out of range", () => Sketch.FromCountSketch(2, [0, 2], [1.0, 1.0]), "hash"),
                     ("FromCountSketch negative hash", () => Sketch.FromCountSketch(2, [0, -1], [1.0, 1.0]), "hash"),
                     ("FromCountSketch lengths differ", () => Sketch.FromCountSketch(2, [0, 1], [1.0]), "values"),
                     ("FromCountSketch NaN value", () => Sketch.FromCountSketch(2, [0, 1], [1.0, double.NaN]), "values"),
                     ("FromCountSketch rows = 0", () => Sketch.FromCountSketch(0, [0], [1.0]), "rows"),
                     ("Stack of none", () => Sketch.Stack(), "sketches"),
                     ("Stack of different widths", () => Sketch.Stack(Sketch.CountSketch(2, 5, 1), Sketch.CountSketch(2, 6, 1)), "sketches"),
                     ("ApplyToRowBlock offset -1", () => S.ApplyToRowBlock(-1, A), "rowOffset"),
                     ("ApplyToRowBlock past the end", () => S.ApplyToRowBlock(1, A), "rowOffset"),
                 })
        {
            var exception = name.Contains("= 0") || name.Contains("= -") || name.Contains("offset") || name.Contains("past")
                ? typeof(ArgumentOutOfRangeException) : typeof(ArgumentException);
            yield return ($"Sketch.{name}", new BadInput(call, exception, parameter));
        }

        // Weights construction.
        foreach (var (name, call, parameter) in new (string, Action, string)[]
                 {
                     ("FromMatrix all zero", () => Weights.FromMatrix(Matrix<double>.Build.Dense(3, 3)), "weights"),
                     ("FromMatrix negative", () => Weights.FromMatrix(Matrix<double>.Build.Dense(3, 3, -1.0)), "weights"),
                     ("FromFactors inner dimensions differ",
                         () => Weights.FromFactors(Matrix<double>.Build.Dense(3, 2, 1.0), Matrix<double>.Build.Dense(3, 3, 1.0)), "right"),
                     ("FromFactors negative product",
                         () => Weights.FromFactors(Matrix<double>.Build.Dense(3, 1, -1.0), Matrix<double>.Build.Dense(1, 3, 1.0)), "right"),
                     ("RankOne empty rows", () => Weights.RankOne([], [1.0]), "rowWeights"),
                     ("RankOne negative column", () => Weights.RankOne([1.0], [-1.0]), "columnWeights"),
                     ("RankOne all zero", () => Weights.RankOne([0.0, 0.0], [1.0]), "rowWeights"),
                     ("RankOne infinite", () => Weights.RankOne([double.PositiveInfinity], [1.0]), "rowWeights"),
                     ("BlockMask of none", () => Weights.BlockMask([], []), "columnSizes"),
                     ("BlockMask lengths differ", () => Weights.BlockMask([1, 2], [1]), "columnSizes"),
                     ("BlockMask zero block", () => Weights.BlockMask([1, 0], [1, 1]), "rowSizes"),
                     ("LowRankPlusSparse sparse of another shape",
                         () => Weights.LowRankPlusSparse(Matrix<double>.Build.Dense(3, 1, 1.0), Matrix<double>.Build.Dense(1, 3, 1.0),
                             Matrix<double>.Build.Sparse(2, 3)), "sparse"),
                     ("LowRankPlusSparse NaN in sparse",
                         () => Weights.LowRankPlusSparse(Matrix<double>.Build.Dense(3, 1, 1.0), Matrix<double>.Build.Dense(1, 3, 1.0),
                             Matrix<double>.Build.Dense(3, 3, (i, j) => i == j ? double.NaN : 0)), "sparse"),
                 })
            yield return ($"Weights.{name}", new BadInput(call, typeof(ArgumentException), parameter));
        yield return ("Weights.RankOne null", new BadInput(() => Weights.RankOne(null!, [1.0]), typeof(ArgumentNullException), "rowWeights"));
        yield return ("Weights.BlockMask null", new BadInput(() => Weights.BlockMask(null!, [1]), typeof(ArgumentNullException), "rowSizes"));

        // Files and bytes.
        yield return ("SketchFile.FromBytes null", new BadInput(() => SketchFile.FromBytes(null!), typeof(ArgumentNullException), "bytes"));
        yield return ("SketchFile.FromBytes empty", new BadInput(() => SketchFile.FromBytes([]), typeof(InvalidDataException), null));
        yield return ("SketchFile.Load missing", new BadInput(() => SketchFile.Load("/nonexistent/x.sketch"), typeof(DirectoryNotFoundException), null));
        yield return ("SketchFile.Load null", new BadInput(() => SketchFile.Load(null!), typeof(ArgumentNullException), "path"));
        yield return ("SketchFile.Save null sketch", new BadInput(() => SketchFile.Save("x.sketch", null!), typeof(ArgumentNullException), "sketch"));
        yield return ("Protocol.FromBytes null", new BadInput(() => Protocol.FromBytes(null!), typeof(ArgumentNullException), "bytes"));
        yield return ("Protocol.FromBytes empty", new BadInput(() => Protocol.FromBytes([]), typeof(InvalidDataException), null));
        yield return ("Protocol.FromBytes foreign", new BadInput(() => Protocol.FromBytes("not a message"u8.ToArray()), typeof(InvalidDataException), null));
        yield return ("Npy.ReadMatrix null", new BadInput(() => Npy.ReadMatrix(null!), typeof(ArgumentNullException), "path"));
        yield return ("Npy.ReadMatrix missing", new BadInput(() => Npy.ReadMatrix("/nonexistent.npy"), typeof(FileNotFoundException), null));
        yield return ("Npy.WriteMatrix null matrix", new BadInput(() => Npy.WriteMatrix("x.npy", null!), typeof(ArgumentNullException), "matrix"));
        yield return ("Npy.WriteStack empty", new BadInput(() => Npy.WriteStack("x.npy", []), typeof(ArgumentException), "matrices"));
        yield return ("Npy.WriteStack shapes differ",
            new BadInput(() => Npy.WriteStack("x.npy", [A, Matrix<double>.Build.Dense(2, 2)]), typeof(ArgumentException), "matrices"));

        // Training options.
        var set = new[] { A, A.Transpose().Transpose() };
        foreach (var (name, options, parameter) in new (string, TrainingOptions, string)[]
                 {
                     ("Rank = 0", Training.Defaults(0, 4), "options.Rank"),
                     ("Rank = 7 > min(n, d)", Training.Defaults(7, 8), "options.Rank"),
                     ("SketchRows < Rank", Training.Defaults(3, 2), "options.SketchRows"),
                     ("mixed kind with too few trained rows", Training.Defaults(3, 4) with { Kind = LearnedSketchKind.MixedJoint }, "options.SketchRows"),
                     ("Steps = -1", Training.Defaults(2, 4) with { Steps = -1 }, "options.Steps"),
                     ("LearningRate = 0", Training.Defaults(2, 4) with { LearningRate = 0 }, "options.LearningRate"),
                     ("LearningRate = NaN", Training.Defaults(2, 4) with { LearningRate = double.NaN }, "options.LearningRate"),
                     ("BatchSize = 0", Training.Defaults(2, 4) with { BatchSize = 0 }, "options.BatchSize"),
                     ("DecayEvery = 0", Training.Defaults(2, 4) with { DecayEvery = 0 }, "options.DecayEvery"),
                     ("DecayFactor = 0", Training.Defaults(2, 4) with { DecayFactor = 0 }, "options.DecayFactor"),
                     ("DecayFactor = 2", Training.Defaults(2, 4) with { DecayFactor = 2 }, "options.DecayFactor"),
                     ("CheckpointEvery = 0", Training.Defaults(2, 4) with { CheckpointEvery = 0 }, "options.CheckpointEvery"),
                     ("NonzerosPerColumn = -1", Training.Defaults(2, 4) with { NonzerosPerColumn = -1 }, "options.NonzerosPerColumn"),
                     ("NonzerosPerColumn above the trained rows", Training.Defaults(2, 4) with { NonzerosPerColumn = 5 }, "options.NonzerosPerColumn"),
                     ("Greedy positions with a dense block", Training.Defaults(2, 4) with { Positions = SketchPositions.Greedy }, "options.NonzerosPerColumn"),
                     ("GreedyMatrices = 0", Training.Defaults(2, 4) with { GreedyMatrices = 0 }, "options.GreedyMatrices"),
                     ("PrincipalMatrices = -1", Training.Defaults(2, 4) with { PrincipalMatrices = -1 }, "options.PrincipalMatrices"),
                 })
            yield return ($"Training.Train with {name}", new BadInput(() => Training.Train(set, options), typeof(ArgumentOutOfRangeException), parameter));
        // Enum values outside their members were mapped silently ((TrainingLoss)42 trained with the Frobenius loss).
        foreach (var (name, options) in new (string, TrainingOptions)[]
                 {
                     ("Loss", Training.Defaults(2, 4) with { Loss = (TrainingLoss)42 }),
                     ("Optimizer", Training.Defaults(2, 4) with { Optimizer = (Optimizer)42 }),
                     ("Kind", Training.Defaults(2, 4) with { Kind = (LearnedSketchKind)42 }),
                     ("Svd", Training.Defaults(2, 4) with { Svd = (SvdMethod)42 }),
                     ("Normalization", Training.Defaults(2, 4) with { Normalization = (Normalization)42 }),
                     ("Positions", Training.Defaults(2, 4) with { Positions = (SketchPositions)42 }),
                 })
            yield return ($"Training.Train with an undefined {name}", new BadInput(() => Training.Train(set, options), typeof(ArgumentOutOfRangeException), "options"));
        yield return ("Training.Train with no matrices", new BadInput(() => Training.Train([], Training.Defaults(2, 4)), typeof(ArgumentException), "matrices"));
        yield return ("Training.Train with matrices of two shapes",
            new BadInput(() => Training.Train([A, Matrix<double>.Build.Random(8, 5, 2)], Training.Defaults(2, 4)), typeof(ArgumentException), "matrices"));
        yield return ("Training.Train with a NaN matrix",
            new BadInput(() => Training.Train([A, WithEntry(double.NaN)], Training.Defaults(2, 4)), typeof(ArgumentException), "matrices"));
        yield return ("Training.Train with a missing checkpoint",
            new BadInput(() => Training.Train(set, Training.Defaults(2, 4) with { ResumeFrom = "/nonexistent.ckpt" }), typeof(FileNotFoundException), null));

        // Compression and the experiments' network.
        yield return ("Compression.DataAware with ridge = 0",
            new BadInput(() => Compression.DataAware(A, Matrix<double>.Build.DenseIdentity(8), 2, 0), typeof(ArgumentOutOfRangeException), "ridge"));
        yield return ("Compression.DataAware with a covariance of another size",
            new BadInput(() => Compression.DataAware(A, Matrix<double>.Build.DenseIdentity(7), 2), typeof(ArgumentException), "covariance"));
        yield return ("Compression.TwoSided with an input covariance of another size",
            new BadInput(() => Compression.TwoSided(A, Matrix<double>.Build.DenseIdentity(7), Matrix<double>.Build.DenseIdentity(6), 2),
                typeof(ArgumentException), "inputCovariance"));
        yield return ("Compression.TwoSided with an output covariance of another size",
            new BadInput(() => Compression.TwoSided(A, Matrix<double>.Build.DenseIdentity(8), Matrix<double>.Build.DenseIdentity(5), 2),
                typeof(ArgumentException), "outputCovariance"));
        // A checksum or a shape is not a covariance: each of these used to give an objective.
        var identity = Matrix<double>.Build.DenseIdentity(8);
        var notCovariances = new (string What, Matrix<double> C)[]
        {
            ("an all-zero covariance", Matrix<double>.Build.Dense(8, 8)),
            ("a negative-definite covariance", -identity),
            ("an indefinite covariance", Matrix<double>.Build.DenseOfDiagonalArray([1, 1, 1, 1, 1, 1, 1, -1])),
            ("an indefinite covariance with a positive diagonal", identity + Matrix<double>.Build.Dense(8, 8, (i, j) => i + j == 1 ? 2 : 0)),
            ("a non-symmetric covariance", identity + Matrix<double>.Build.Dense(8, 8, (i, j) => i == 0 && j == 1 ? 0.5 : 0)),
        };
        foreach (var (what, c) in notCovariances)
        {
            yield return ($"Compression.DataAware with {what}",
                new BadInput(() => Compression.DataAware(A, c, 2), typeof(ArgumentException), "covariance"));
            yield return ($"Compression.WhitenedSpectrum with {what}",
                new BadInput(() => Compression.WhitenedSpectrum(A, c), typeof(ArgumentException), "covariance"));
            yield return ($"Compression.MatchOutputs with {what} as C'",
                new BadInput(() => Compression.MatchOutputs(A, identity, c, identity, 2), typeof(ArgumentException), "shiftedCovariance"));
        }
        yield return ("Compression.TwoSided with -I as the output covariance",
            new BadInput(() => Compression.TwoSided(A, identity, -Matrix<double>.Build.DenseIdentity(6), 2), typeof(ArgumentException), "outputCovariance"));
        yield return ("Compression.TwoSided with a zero output covariance",
            new BadInput(() => Compression.TwoSided(A, identity, Matrix<double>.Build.Dense(6, 6), 2), typeof(ArgumentException), "outputCovariance"));
        yield return ("Compression.MatchOutputs with -I as C",
            new BadInput(() => Compression.MatchOutputs(A, -identity, identity, identity, 2), typeof(ArgumentException), "covariance"));
        yield return ("Compression.DataAndWeights with weights of another shape",
            new BadInput(() => Compression.DataAndWeights(A, Matrix<double>.Build.DenseIdentity(8), WrongShapeWeights, 2), typeof(ArgumentException), "weights"));
        yield return ("Mlp.Train with labels of another length",
            new BadInput(() => Mlp.Train(A, [0, 1], 2), typeof(ArgumentException), "labels"));
        yield return ("Mlp.Train with a label out of range",
            new BadInput(() => Mlp.Train(A, [0, 1, 2, 0, 1, 0, 1, 0], 2), typeof(ArgumentException), "labels"));
        yield return ("Mlp.Train with Epochs = 0",
            new BadInput(() => Mlp.Train(A, [0, 1, 1, 0, 1, 0, 1, 0], 2, new MlpOptions { Epochs = 0 }), typeof(ArgumentOutOfRangeException), "options.Epochs"));
        yield return ("Mlp.Train with classes = 0",
            new BadInput(() => Mlp.Train(A, [0, 0, 0, 0, 0, 0, 0, 0], 0), typeof(ArgumentOutOfRangeException), "classes"));

        // Streaming, sketch states and distributed (issue 15).
        var hashed = BlockSketch.Hashed(1, 4);
        yield return ("Streaming.ApproximateRows with a NaN block",
            new BadInput(() => Streaming.ApproximateRows([WithEntry(double.NaN)], hashed, 2), typeof(ArgumentException), "block"));
        yield return ("Streaming.ApproximateRows with no blocks",
            new BadInput(() => Streaming.ApproximateRows([], hashed, 2), typeof(ArgumentException), "blocks"));
        yield return ("Streaming.ApproximateRows with rank = min(n, d) + 1",
            new BadInput(() => Streaming.ApproximateRows([A], BlockSketch.Hashed(1, 8), 7), typeof(ArgumentOutOfRangeException), "rank"));
        yield return ("Streaming.ApproximateRows with a sketch of fewer rows than k",
            new BadInput(() => Streaming.ApproximateRows([A], BlockSketch.Hashed(1, 1), 2), typeof(ArgumentException), "sketch"));
        yield return ("Streaming.ApproximateRows with a given sketch of other columns",
            new BadInput(() => Streaming.ApproximateRows([A], BlockSketch.Of(Sketch.CountSketch(4, 9, 1)), 2), typeof(ArgumentException), "sketch"));
        yield return ("Streaming.ApproximateFile with blockRows = 0",
            new BadInput(() => Streaming.ApproximateFile("a.npy", hashed, 2, 0, "left.npy"), typeof(ArgumentOutOfRangeException), "blockRows"));
        yield return ("BlockSketch.Hashed with rows = 0",
            new BadInput(() => BlockSketch.Hashed(1, 0), typeof(ArgumentOutOfRangeException), "rows"));
        yield return ("SketchState.Add with a block of other columns",
            new BadInput(() => SketchState.Add(SketchState.Empty(1, 4, 5), 0, A), typeof(ArgumentException), "block"));
        yield return ("SketchState.Add with rowOffset = -1",
            new BadInput(() => SketchState.Add(SketchState.Empty(1, 4, 6), -1, A), typeof(ArgumentOutOfRangeException), "rowOffset"));
        yield return ("SketchState.Merge of two sketches' states",
            new BadInput(() => SketchState.Merge(SketchState.Empty(1, 4, 6), SketchState.Empty(2, 4, 6)), typeof(ArgumentException), "second"));
        yield return ("SketchState.FromBytes with a flipped bit",
            new BadInput(() =>
            {
                var bytes = SketchState.ToBytes(SketchState.Add(SketchState.Empty(1, 4, 6), 0, A));
                bytes[30] ^= 1;
                SketchState.FromBytes(bytes);
            }, typeof(InvalidDataException), null));
        yield return ("Distributed.Approximate with a NaN part",
            new BadInput(() => Distributed.Approximate(Communicator.Single, WithEntry(double.NaN), hashed, 2), typeof(ArgumentException), "part"));
        yield return ("Distributed.Approximate with rank = 0",
            new BadInput(() => Distributed.Approximate(Communicator.Single, A, hashed, 0), typeof(ArgumentOutOfRangeException), "rank"));
        yield return ("Distributed.SvdW with weights of another shape",
            new BadInput(() => Distributed.SvdW(Communicator.Single, A, Matrix<double>.Build.Dense(7, 6, 1.0), hashed, 2), typeof(ArgumentException), "weights"));
        yield return ("Distributed.Train with greedy positions",
            new BadInput(() => Distributed.Train(Communicator.Single, [A], Training.Defaults(2, 4) with { Positions = SketchPositions.Greedy }),
                typeof(ArgumentException), "options"));
        yield return ("MatrixStack.Slice with count = 0",
            new BadInput(() => MatrixStack.Slice(MatrixStack.OfMatrices([A, A]), 1, 0), typeof(ArgumentOutOfRangeException), "first"));
        yield return ("MatrixStack.Slice past the end",
            new BadInput(() => MatrixStack.Slice(MatrixStack.OfMatrices([A, A]), 1, 2), typeof(ArgumentOutOfRangeException), "first"));
        // Power iterations and randomized SVD.
        yield return ("Scw.ApproximateWithPower with powerIterations = -1",
            new BadInput(() => Scw.ApproximateWithPower(A, S, 2, -1), typeof(ArgumentOutOfRangeException), "powerIterations"));
        yield return ("Scw.ApproximateWithPower with a sketch of too few rows",
            new BadInput(() => Scw.ApproximateWithPower(A, Sketch.CountSketch(1, 8, 2), 2, 1), typeof(ArgumentException), "sketch"));
        // A given by rows (its transpose): NaN and infinity found in the sketch's pass (a CountSketch) or before (a
        // dense sketch), and reported as A's entry.
        yield return ("Scw.ApproximateTransposedWithPower with a NaN in A (CountSketch)",
            new BadInput(() => Scw.ApproximateTransposedWithPower(WithEntry(double.NaN).Transpose(), S, 2, 1), typeof(ArgumentException), "transposed"));
        yield return ("Scw.ApproximateTransposedWithPower with an infinity in A (Gaussian sketch)",
            new BadInput(() => Scw.ApproximateTransposedWithPower(WithEntry(double.PositiveInfinity).Transpose(), Sketch.Gaussian(4, 8, 2), 2, 0),
                typeof(ArgumentException), "transposed"));
        yield return ("Scw.ApproximateTransposedWithPower with a sketch for A^T's rows",
            new BadInput(() => Scw.ApproximateTransposedWithPower(A.Transpose(), Sketch.CountSketch(4, 6, 2), 2, 0), typeof(ArgumentException), "sketch"));
        yield return ("Scw.ApproximateTransposedWithPower with a sketch of too few rows",
            new BadInput(() => Scw.ApproximateTransposedWithPower(A.Transpose(), Sketch.CountSketch(1, 8, 2), 2, 0), typeof(ArgumentException), "sketch"));
        yield return ("Scw.ApproximateTransposedWithPower with powerIterations = -1",
            new BadInput(() => Scw.ApproximateTransposedWithPower(A.Transpose(), S, 2, -1), typeof(ArgumentOutOfRangeException), "powerIterations"));
        yield return ("Scw.ApproximateTransposedWithPower with rank = 7",
            new BadInput(() => Scw.ApproximateTransposedWithPower(A.Transpose(), S, 7, 0), typeof(ArgumentOutOfRangeException), "rank"));
        yield return ("Scw.ApproximateTransposedWithPowerAndError with a NaN in A (CountSketch)",
            new BadInput(() => Scw.ApproximateTransposedWithPowerAndError(WithEntry(double.NaN).Transpose(), S, 2, 0), typeof(ArgumentException), "transposed"));
        yield return ("Scw.ApproximateTransposedWithPowerAndError with rank = 0",
            new BadInput(() => Scw.ApproximateTransposedWithPowerAndError(A.Transpose(), S, 0, 0), typeof(ArgumentOutOfRangeException), "rank"));
        yield return ("Scw.ProjectionErrorTransposed of A's approximation with A instead of A^T",
            new BadInput(() => Scw.ProjectionErrorTransposed(A, Scw.Approximate(A, S, 2)), typeof(ArgumentException), "approximation"));
        yield return ("Npy.ReadTransposed with a null path",
            new BadInput(() => Npy.ReadTransposed(null!), typeof(ArgumentNullException), "path"));
        yield return ("Streaming.ApproximateFileWithPower with powerIterations = -1",
            new BadInput(() => Streaming.ApproximateFileWithPower("/nonexistent.npy", BlockSketch.Hashed(1, 4), 2, -1, 16, "/tmp/left.npy"),
                typeof(ArgumentOutOfRangeException), "powerIterations"));
        yield return ("Scw.Randomized with oversample = -1",
            new BadInput(() => Scw.Randomized(A, 2, oversample: -1), typeof(ArgumentOutOfRangeException), "oversample"));
        yield return ("Scw.Randomized with rank = 0",
            new BadInput(() => Scw.Randomized(A, 0), typeof(ArgumentOutOfRangeException), "rank"));
        yield return ("Scw.Randomized with a NaN matrix",
            new BadInput(() => Scw.Randomized(WithEntry(double.NaN), 2), typeof(ArgumentException), "matrix"));
        yield return ("Scw.ErrorOf of another shape's approximation",
            new BadInput(() => Scw.ErrorOf(A.Transpose(), Scw.Approximate(A, S, 2)), typeof(ArgumentException), "approximation"));
        yield return ("Scw.ErrorOf with a null approximation",
            new BadInput(() => Scw.ErrorOf(A, null!), typeof(ArgumentNullException), "approximation"));

        // Files whose checksum is valid but whose numbers are not, forged as a forger would: a field changed and the
        // CRC-32 recomputed. A checksum proves integrity, not validity.
        var state = SketchState.ToBytes(SketchState.Add(SketchState.Empty(1, 4, 6), 0, A));
        const int covered = 8 + 2 + 3 * 4, sum = covered + 8; // magic, version, seed, m, d; then the rows covered and S A
        yield return ("SketchState.FromBytes with NaN in S A",
            new BadInput(() => SketchState.FromBytes(Forged(state, sum + 8, double.NaN)), typeof(InvalidDataException), null));
        yield return ("SketchState.FromBytes with +Inf in S A",
            new BadInput(() => SketchState.FromBytes(Forged(state, sum + 8 * 23, double.PositiveInfinity)), typeof(InvalidDataException), null));
        yield return ("SketchState.FromBytes with long.MaxValue rows covered",
            new BadInput(() => SketchState.FromBytes(Forged(state, covered, BitConverter.GetBytes(long.MaxValue))), typeof(InvalidDataException), null));
        yield return ("SketchState.Merge past 2^53 rows covered",
            new BadInput(() => SketchState.Merge(SketchState.FromBytes(Forged(state, covered, BitConverter.GetBytes(1L << 53))),
                SketchState.Add(SketchState.Empty(1, 4, 6), 8, A)), typeof(ArgumentException), "second"));
        yield return ("SketchFile.FromBytes with a CountSketch of 2^31 - 1 rows",
            new BadInput(() => SketchFile.FromBytes(Forged(SketchFile.ToBytes(S), 8 + 2 + 1, BitConverter.GetBytes(int.MaxValue))),
                typeof(InvalidDataException), null));
        yield return ("Protocol.Receive of a message whose values and X are 1e308",
            new BadInput(() =>
            {
                var message = Protocol.ToBytes(Protocol.Send(A, W, 1, 4));
                var c = BitConverter.ToInt32(message, 4 + 1 + 8);
                // The first nonzero's value follows the header (4 + 1 + 12), the selected columns and the first column's
                // count and row index; X fills the last 8 c d bytes before the CRC-32.
                var forged = Forged(message, 4 + 1 + 12 + 4 * c + 4 + 4, 1e308);
                for (var at = forged.Length - 4 - 8 * c * A.ColumnCount; at < forged.Length - 4; at += 8)
                    forged = Forged(forged, at, 1e308);
                Protocol.Receive(W, Protocol.FromBytes(forged));
            }, typeof(ArgumentException), "message"));
        yield return ("Training.Train resuming from a checkpoint with NaN in its best sketch",
            new BadInput(() =>
            {
                var path = Path.Combine(Path.GetTempPath(), $"lowrank-catalogue-{Guid.NewGuid():N}.ckpt");
                try
                {
                    Training.Train(set, Training.Defaults(2, 4) with { Steps = 2, CheckpointPath = path });
                    var bytes = File.ReadAllBytes(path);
                    // Magic, version, 18 fingerprint entries, the positions; then step, n, the values, the step size, Adam's
                    // two moments, Adam's step, and the best sketch's values.
                    var step = 8 + 2 + 18 * 4 + 4 + 4 * BitConverter.ToInt32(bytes, 8 + 2 + 18 * 4);
                    var n = BitConverter.ToInt32(bytes, step + 4);
                    File.WriteAllBytes(path, Forged(bytes, step + 8 + 8 * n + 8 + 16 * n + 4, double.NaN));
                    Training.Train(set, Training.Defaults(2, 4) with { Steps = 2, ResumeFrom = path });
                }
                finally
                {
                    File.Delete(path);
                }
            }, typeof(InvalidDataException), null));

        yield return ("Communicator.RunInProcess with size = 0",
            new BadInput(() => Communicator.RunInProcess(0, c => c.Rank), typeof(ArgumentOutOfRangeException), "size"));
    }

    private static readonly Dictionary<string, BadInput> Cases = Generate().ToDictionary(c => c.Name, c => c.Input);

    public static IEnumerable<object[]> Names => Cases.Keys.Select(name => new object[] { name });

    [Fact]
    public void TheCatalogue_HasAtLeastTwoHundredCases() => Assert.True(Cases.Count >= 200, $"{Cases.Count} cases");

    [Theory]
    [MemberData(nameof(Names))]
    public void BadInput_GetsTheDocumentedException_NamingTheArgument(string name)
    {
        var input = Cases[name];
        var error = Record.Exception(input.Call);

        Assert.NotNull(error);
        Assert.True(error.GetType() == input.Exception, $"{name}: expected {input.Exception.Name}, got {error.GetType().Name}: {error.Message}");
        if (input.Parameter is not null)
            Assert.Equal(input.Parameter, ((ArgumentException)error).ParamName);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }
}
