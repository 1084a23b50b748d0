using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using MathNet.Numerics.LinearAlgebra;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary><c>lowrank reproduce</c>: the experiments of EXPERIMENTS.md, each writing its tables into a folder.</summary>
internal static class ReproduceCommand
{
    public static Command Create(Terminal terminal)
    {
        var command = new Command("reproduce", "Reproduce an experiment of EXPERIMENTS.md, writing its table as Markdown and CSV.");
        command.Subcommands.Add(FisherMlp(terminal));
        command.Subcommands.Add(LearnedSketches(terminal));
        command.Subcommands.Add(TrainingChoicesExperiment.Create(terminal));
        command.Subcommands.Add(WorstCaseExperiment.Create(terminal));
        command.Subcommands.Add(WeightedSyntheticExperiment.Create(terminal));
        command.Subcommands.Add(ModelCompressionExperiment.Create(terminal));
        return command;
    }

    /// <summary>One compressed first layer: how it scores on the weighted loss and on the network's test accuracy.</summary>
    internal sealed record Row(
        int Rank,
        string Method,
        double? RelativeLoss,
        double? Amplification,
        int? Parameters,
        double Milliseconds,
        double? Accuracy,
        string? Error = null
    );

    private static Command FisherMlp(Terminal terminal)
    {
        var data = new Option<string>("--data")
        {
            Description = "The Fashion-MNIST folder (IDX files) that scripts/fetch-data.sh writes.",
            DefaultValueFactory = _ => "data/fashion-mnist",
        };
        var output = new Option<string>("--out", "-o")
        {
            Description = "Folder for table.md, results.csv, and layer.npy, weights.npy (sqrt Fisher), input-covariance.npy and "
                + "output-covariance.npy.",
            DefaultValueFactory = _ => "results/fisher-mlp",
        };
        var quick = new Option<bool>("--quick")
        {
            Description = "A small version: 5000 training and 2000 test images, 2 epochs, k = 5 (seconds instead of minutes).",
        };
        var seed = Options.Seed("the network's initialisation and shuffling");
        var command = new Command(
            "fisher-mlp",
            "Train a 784-128-10 MLP on Fashion-MNIST, compress its first layer with every weighted method (Fisher weights) and "
                + "every data-aware one at k = 5, 10, 20, and report weighted loss, amplification, time and test accuracy."
        );
        Options.Add(command, data, output, quick, seed);
        command.SetAction(
            (parsed, cancellationToken) =>
            {
                var folder = parsed.GetRequiredValue(output);
                Directory.CreateDirectory(folder);
                var rows = RunFisherMlp(
                    parsed.GetRequiredValue(data),
                    parsed.GetValue(quick),
                    parsed.GetValue(seed),
                    folder,
                    line => terminal.Console.MarkupLineInterpolated($"[grey]{line}[/]"),
                    cancellationToken
                );
                File.WriteAllText(Path.Combine(folder, "table.md"), Markdown(rows));
                File.WriteAllText(Path.Combine(folder, "results.csv"), Csv(rows));
                Chart.Save(AccuracyFigure(rows), folder, "accuracy");
                terminal.Console.Write(Table(rows));
                terminal.Console.WriteLine(
                    $"Wrote table.md, results.csv, accuracy.png and accuracy.svg to {folder}.");
                return System.Threading.Tasks.Task.FromResult(0);
            }
        );
        return command;
    }

    /// <summary>One sketch's test error in one (k, m) configuration, with its training time (0 for random ones).</summary>
    internal sealed record SketchRow(int Rank, int Rows, string Sketch, double TestError, double TrainingSeconds);

    private static Command LearnedSketches(Terminal terminal)
    {
        var data = Options.VideoFrames();
        var train = Options.Frames("--train", "Training", "0:600");
        var test = Options.Frames("--test", "Test", "600:");
        var ranks = new Option<int[]>("--ranks") { Description = "Values of k.", DefaultValueFactory = _ => [10], AllowMultipleArgumentsPerToken = true };
        var rows = new Option<int[]>("--rows") { Description = "Values of m (each >= 2k for the mixed kinds).", DefaultValueFactory = _ => [20], AllowMultipleArgumentsPerToken = true };
        var steps = new Option<int?>("--steps") { Description = "Training steps for every trained sketch (default: each method's own, in the table)." };
        var output = new Option<string>("--out", "-o") { Description = "Folder for table.md, results.csv and the figures.", DefaultValueFactory = _ => "results/learned-sketches" };
        var quick = new Option<bool>("--quick") { Description = "A small version: every 10th frame of --train and --test, at most 50 steps per sketch." };
        var command = new Command(
            "learned-sketches",
            "Indyk, Vakilian and Yuan (2019), Tables 1-3 style, and beyond: test error Err(Te, S) and training time of random "
                + "sketches, the 2019 learned values, learned positions + values, few-shot sketches, the default and mixed "
                + "sketches, for each (k, m)."
        );
        Options.Add(command, data, train, test, ranks, rows, steps, output, quick);
        command.SetAction(
            async (parsed, cancellationToken) =>
            {
                var folder = parsed.GetRequiredValue(output);
                Directory.CreateDirectory(folder);
                var path = parsed.GetRequiredValue(data);
                var isQuick = parsed.GetValue(quick);
                // --quick thins both selections to every 10th frame (start:stop -> start:stop:10).
                string Thin(string select) => isQuick && select.Split(':').Length == 2 ? select + ":10" : select;
                var training = Inputs.ReadTrainingStack(path, Thin(parsed.GetRequiredValue(train)), "--train");
                var testing = Inputs.ReadStack(path, Thin(parsed.GetRequiredValue(test)), "--test");
                var stepsGiven = parsed.GetValue(steps) ?? (isQuick ? 50 : null);
                var timings = new List<string>();
                var curves = new List<(string Name, IReadOnlyList<(double X, double Y)> Points)>();
                var (n, d) = training is MatrixStack stack ? (stack.Rows, stack.Columns) : (training[0].RowCount, training[0].ColumnCount);
                terminal.Console.WriteLine($"{training.Count} training and {testing.Length} test matrices of {n} x {d}.");
                var results = new List<SketchRow>();
                foreach (var k in parsed.GetValue(ranks) ?? [10])
                foreach (var m in parsed.GetValue(rows) ?? [20])
                {
                    if (m < k)
                    {
                        terminal.Console.WriteLine($"k = {k}, m = {m} skipped: a sketch needs at least k rows.");
                        continue;
                    }
                    var sketches = new List<(string Name, Sketch Sketch, double Seconds)>
                    {
                        ("random CountSketch", Sketch.CountSketch(m, n, 1), 0),
                        ("dense Gaussian", Sketch.Gaussian(m, n, 1), 0),
                    };
                    foreach (var (name, options) in Methods(k, m, stepsGiven))
                    {
                        // A sketch needs at least k trained rows (m for learned, floor(m/2) for the mixed kinds), and at
                        // most that many nonzeros per column.
                        var trainedRows = options.Kind == LearnedSketchKind.Learned ? m : m / 2;
                        if (trainedRows < k || options.NonzerosPerColumn > trainedRows)
                        {
                            terminal.Console.WriteLine(
                                $"k = {k}, m = {m}: {name} skipped (it trains {trainedRows} rows: fewer than k, or fewer than its nonzeros per column).");
                            continue;
                        }
                        var clock = Stopwatch.StartNew();
                        var trained = await TrainingRun.RunAsync(terminal, $"k={k} m={m} {name}", training, options, cancellationToken);
                        cancellationToken.ThrowIfCancellationRequested();
                        sketches.Add((name, trained.Sketch, clock.Elapsed.TotalSeconds));
                        var curve = name switch
                        {
                            "learned values (2019)" => "2019 method",
                            "default: principal start + values" => "default",
                            "greedy positions + values (s = 1)" => "greedy, s = 1",
                            _ => null,
                        };
                        // Windows of a fiftieth of the run (at least one step) smooth out the batch-to-batch noise.
                        // The first (k, m) pair only: a grid's 3 curves per pair would crowd one chart.
                        if (curve is not null && trained.LossHistory.Count > 0 && results.Count == 0)
                            curves.Add(($"{curve} ({k}, {m})", Smoothed(trained.LossHistory, Math.Max(1, trained.LossHistory.Count / 50))));
                    }
                    var errors = Scw.TestErrors(testing, sketches.Select(s => s.Sketch), k, Normalization.TopSingularValue);
                    results.AddRange(sketches.Select((s, i) => new SketchRow(k, m, s.Name, errors[i], s.Seconds)));

                    // Table 4 style: time per test frame of the exact rank-k SVD against SCW with a CountSketch and with
                    // the default (dense) learned sketch; and a frame beside its reconstructions.
                    var learned = sketches.FirstOrDefault(s => s.Name == "default: principal start + values").Sketch;
                    timings.Add(Timing(k, m, testing, sketches[0].Sketch, learned));
                    if (learned is not null)
                    {
                        var frame = testing[testing.Length / 2];
                        var png = Path.Combine(folder, $"reconstruction-k{k}-m{m}.png");
                        // One gray scale for all panels: the frame's own range.
                        GrayPng.Write(png, GrayPng.SideBySide(frame.Enumerate().Min(), frame.Enumerate().Max(), frame, Svd.BestRankK(frame, k).ToMatrix(),
                            Scw.Approximate(frame, sketches[0].Sketch, k).ToMatrix(), Scw.Approximate(frame, learned, k).ToMatrix()));
                    }
                }

                var header = "| k | m | sketch | Err(Te, S) | training time (s) |\n|---|---|---|---|---|\n";
                File.WriteAllText(
                    Path.Combine(folder, "table.md"),
                    header + string.Concat(results.Select(r =>
                        $"| {r.Rank} | {r.Rows} | {r.Sketch} | {r.TestError.ToString("0.000000", CultureInfo.InvariantCulture)} | {r.TrainingSeconds.ToString("0.0", CultureInfo.InvariantCulture)} |\n"))
                    + "\nTime per test frame (mean over the test frames, one after another):\n\n"
                    + "| k | m | exact SVD, best rank k | SCW, random CountSketch | SCW, default learned sketch (dense) |\n|---|---|---|---|---|\n"
                    + string.Concat(timings));
                if (curves.Count > 0)
                    Chart.Save(Chart.Lines(
                        "Training loss (mean ||A - SCW(S, A)||_F of the batch, window averages)", "step", "loss", curves), folder, "training");
                var figures = new List<string>(curves.Count > 0 ? ["training"] : []);
                foreach (var k in results.Select(r => r.Rank).Distinct())
                {
                    if (results.Where(r => r.Rank == k).Select(r => r.Rows).Distinct().Count() < 2)
                        continue;
                    figures.Add($"error-vs-rows-k{k}");
                    Chart.Save(ErrorAgainstRows(results, k), folder, figures[^1]);
                }
                File.WriteAllText(
                    Path.Combine(folder, "results.csv"),
                    "k,m,sketch,test_error,training_seconds\n" + string.Concat(results.Select(r =>
                        string.Create(CultureInfo.InvariantCulture, $"{r.Rank},{r.Rows},{Tables.CsvField(r.Sketch)},{r.TestError:R},{r.TrainingSeconds:0.0}\n"))));
                var table = new Table().AddColumn("k").AddColumn("m").AddColumn("sketch")
                    .AddColumn(new TableColumn("Err(Te, S)").RightAligned()).AddColumn(new TableColumn("training (s)").RightAligned());
                foreach (var r in results)
                    table.AddRow($"{r.Rank}", $"{r.Rows}", Markup.Escape(r.Sketch), $"{r.TestError:0.000000}", $"{r.TrainingSeconds:0.0}");
                terminal.Console.Write(table);
                terminal.Console.WriteLine(
                    $"Wrote table.md, results.csv, reconstruction-k*-m*.png{string.Concat(figures.Select(f => $", {f}.png, {f}.svg"))} to {folder}.");
                return 0;
            }
        );
        return command;
    }

    /// <summary>The sketches a reader compares first, by the names of <see cref="Methods"/>.</summary>
    private static readonly string[] Compared =
    [
        "random CountSketch", "dense Gaussian", "learned values (2019)", "greedy positions + values (s = 1)",
        "few-shot: principal start from 1 matrix", "default: principal start + values", "mixed (J) with default options",
    ];

    /// <summary>Err(Te, S) against m at rank k, on a logarithmic axis (the errors span orders of magnitude).</summary>
    internal static ScottPlot.Plot ErrorAgainstRows(IReadOnlyList<SketchRow> results, int k) =>
        Chart.Lines(
            $"Test error against sketch rows, k = {k}",
            "rows m",
            "Err(Te, S) (log scale)",
            Compared
                .Select(name => (name, (IReadOnlyList<(double X, double Y)>)results
                    .Where(r => r.Rank == k && r.Sketch == name).Select(r => ((double)r.Rows, r.TestError)).ToList()))
                .Where(s => s.Item2.Count > 0)
                .ToList(),
            logY: true);

    /// <summary>Moving averages of `width` consecutive finite values, as (last step of the window, mean) points.</summary>
    private static IReadOnlyList<(double X, double Y)> Smoothed(IReadOnlyList<double> values, int width)
    {
        var points = new List<(double, double)>();
        for (var end = width; end <= values.Count; end += width)
        {
            var window = Enumerable.Range(end - width, width).Select(i => values[i]).Where(double.IsFinite).ToArray();
            if (window.Length > 0)
                points.Add((end, window.Average()));
        }
        return points;
    }

    /// <summary>One Markdown row: mean milliseconds per frame of the exact rank-k SVD and of SCW with each sketch.</summary>
    private static string Timing(int k, int m, Matrix<double>[] frames, Sketch random, Sketch? learned)
    {
        static string Mean(Matrix<double>[] frames, Action<Matrix<double>> work)
        {
            work(frames[0]); // the first call pays for the JIT
            var clock = Stopwatch.StartNew();
            foreach (var frame in frames)
                work(frame);
            return (clock.Elapsed.TotalMilliseconds / frames.Length).ToString("0.00", CultureInfo.InvariantCulture) + " ms";
        }

        var svd = Mean(frames, a => Svd.BestRankK(a, k));
        var countSketch = Mean(frames, a => Scw.Approximate(a, random, k));
        var dense = learned is null ? "-" : Mean(frames, a => Scw.Approximate(a, learned, k));
        return $"| {k} | {m} | {svd} | {countSketch} | {dense} |\n";
    }

    /// <summary>The trained sketches of the learned-sketches table, each with its own steps and rate unless --steps is
    /// given: the 2019 method (random positions, values trained), learned positions + values with 1 and 4 nonzeros per
    /// column and with the greedy search (1 per column), few-shot sketches (the Principal start from 1 or 32 matrices, no step), the defaults, and the mixed kinds
    /// with the defaults.</summary>
    internal static IEnumerable<(string Name, TrainingOptions Options)> Methods(int k, int m, int? steps)
    {
        var defaults = Training.Defaults(k, m);
        var paper = defaults with { Positions = SketchPositions.Random, NonzerosPerColumn = 1, Steps = 500, LearningRate = 0.05 };
        var positions = defaults with { NonzerosPerColumn = 1, Steps = 500, LearningRate = 0.05 };
        var methods = new (string, TrainingOptions)[]
        {
            ("learned values (2019)", paper),
            ("learned positions + values (s = 1)", positions),
            ("learned positions + values (s = 4)", positions with { NonzerosPerColumn = 4 }),
            ("greedy positions + values (s = 1)", positions with { Positions = SketchPositions.Greedy }),
            ("few-shot: principal start from 1 matrix", defaults with { Steps = 0, PrincipalMatrices = 1 }),
            ("few-shot: principal start from 32 matrices", defaults with { Steps = 0 }),
            ("default: principal start + values", defaults),
            ("mixed (J) with default options", defaults with { Kind = LearnedSketchKind.MixedJoint }),
            ("mixed (S) with default options", defaults with { Kind = LearnedSketchKind.MixedSeparate }),
            ("mixed (J) with 2019 options", paper with { Kind = LearnedSketchKind.MixedJoint }),
        };
        return methods.Select(method =>
            steps is { } given && method.Item2.Steps > 0 ? (method.Item1, method.Item2 with { Steps = given }) : method);
    }

    private static (Matrix<double> Images, int[] Labels) Load(string folder, string set, int limit)
    {
        var images = Path.Combine(folder, $"{set}-images-idx3-ubyte.gz");
        var labels = Path.Combine(folder, $"{set}-labels-idx1-ubyte.gz");
        foreach (var file in new[] { images, labels })
        {
            if (!File.Exists(file))
                throw new ArgumentException($"--data: '{file}' does not exist; run scripts/fetch-data.sh to fetch Fashion-MNIST.");
        }
        var x = Idx.ReadRows(images);
        var y = Idx.ReadRows(labels).Column(0).Select(v => (int)v).ToArray();
        var count = Math.Min(limit, x.RowCount);
        return (x.SubMatrix(0, count, 0, x.ColumnCount) / 255.0, y[..count]);
    }

    /// <summary>The experiment itself, on the facade only; `log` is told each stage. The layer, its Fisher weights and
    /// both covariances go to `output` as .npy files, for <c>lowrank wlra</c> and <c>lowrank compress</c>.</summary>
    internal static List<Row> RunFisherMlp(
        string folder,
        bool quick,
        int seed,
        string output,
        Action<string> log,
        CancellationToken cancellationToken
    )
    {
        var clock = Stopwatch.StartNew();
        var (train, trainLabels) = Load(folder, "train", quick ? 5000 : int.MaxValue);
        var (test, testLabels) = Load(folder, "t10k", quick ? 2000 : int.MaxValue);
        log($"{train.RowCount} training and {test.RowCount} test images of {train.ColumnCount} pixels, loaded in {clock.Elapsed.TotalSeconds:0.0} s.");

        var options = new MlpOptions { Epochs = quick ? 2 : 5, Seed = seed };
        var network = Mlp.Train(train, trainLabels, 10, options, null, cancellationToken);
        var a = network.FirstLayer;
        var fullAccuracy = network.Accuracy(test, testLabels);
        log($"Trained {a.RowCount}-{a.ColumnCount}-10 ({options.Epochs} epochs, batch {options.BatchSize}, Adam {options.LearningRate}) "
            + $"by {clock.Elapsed.TotalSeconds:0.0} s; test accuracy {fullAccuracy:0.0000}.");

        var fisher = network.FirstLayerFisher(train, trainLabels);
        var sqrtFisher = Norm.SqrtWeights(fisher);
        var weights = Weights.FromMatrix(sqrtFisher);
        var inputCovariance = Compression.InputCovariance(train);
        var outputCovariance = network.OutputGradientCovariance(train, trainLabels);
        var zeros = sqrtFisher.Enumerate().Count(v => v == 0);
        log($"W = sqrt(empirical Fisher): {100.0 * zeros / (a.RowCount * a.ColumnCount):0.0}% zeros, numerical rank {weights.Rank}.");
        Npy.WriteMatrix(Path.Combine(output, "layer.npy"), a);
        Npy.WriteMatrix(Path.Combine(output, "weights.npy"), sqrtFisher);
        Npy.WriteMatrix(Path.Combine(output, "input-covariance.npy"), inputCovariance);
        Npy.WriteMatrix(Path.Combine(output, "output-covariance.npy"), outputCovariance);
        var weightedNorm = Norm.WeightedFrobenius(a, sqrtFisher);
        var largest = a.Enumerate().Max(Math.Abs);

        var rows = new List<Row> { new(a.ColumnCount, "full layer", 0, 1, a.RowCount * a.ColumnCount, 0, fullAccuracy) };
        foreach (var k in quick ? new[] { 5 } : new[] { 5, 10, 20 })
        {
            foreach (var (name, method) in WeightedRuns.Methods)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var timer = Stopwatch.StartNew();
                try
                {
                    var result = method(a, weights, k, new WlraOptions(), cancellationToken);
                    var time = timer.Elapsed.TotalMilliseconds;
                    var accuracy = network.WithFirstLayer(result.ToMatrix()).Accuracy(test, testLabels);
                    rows.Add(new(k, name, result.Loss / weightedNorm, result.Amplification, result.Parameters, time, accuracy));
                }
                catch (ArgumentException e)
                {
                    rows.Add(new(k, name, null, null, null, timer.Elapsed.TotalMilliseconds, null, App.OneLine(e.Message)));
                }
            }

            var compressions = new (string Name, Func<CompressedLayer> Run)[]
            {
                ("data-aware", () => Compression.DataAware(a, inputCovariance, k)),
                ("data-and-weights", () => Compression.DataAndWeights(a, inputCovariance, weights, k)),
                ("two-sided", () => Compression.TwoSided(a, inputCovariance, outputCovariance, k)),
            };
            foreach (var (name, run) in compressions)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var timer = Stopwatch.StartNew();
                var result = run();
                var time = timer.Elapsed.TotalMilliseconds;
                var approximation = result.ToMatrix();
                var loss = Norm.WeightedFrobenius(a - approximation, sqrtFisher) / weightedNorm;
                var amplification = approximation.Enumerate().Max(Math.Abs) / largest;
                var accuracy = network.WithFirstLayer(approximation).Accuracy(test, testLabels);
                rows.Add(new(k, name, loss, amplification, result.Parameters, time, accuracy));
            }
            log($"k = {k} done by {clock.Elapsed.TotalSeconds:0.0} s.");
        }
        return rows;
    }

    /// <summary>Test accuracy against the numbers stored (every method stores k (n + d) at rank k) for the methods a reader
    /// compares first, with the full network as a line.</summary>
    internal static ScottPlot.Plot AccuracyFigure(IReadOnlyList<Row> rows)
    {
        string[] shown = ["svd", "svd-w", "em", "als", "data-aware", "two-sided"];
        var series = shown
            .Select(name => (Name: name, Points: (IReadOnlyList<(double, double)>)rows
                .Where(r => r.Method == name && r.Accuracy is not null)
                .Select(r => ((double)r.Parameters!.Value, r.Accuracy!.Value))
                .ToList()))
            .Where(s => s.Points.Count > 0)
            .ToList();
        var full = rows.FirstOrDefault(r => r.Method == "full layer")?.Accuracy;
        return Chart.Lines(
            "Fashion-MNIST MLP, first layer compressed (k = 5, 10, 20)",
            "numbers stored, k (n + d)",
            "test accuracy",
            series,
            full is { } value ? ("full network", value) : null);
    }

    private static string Format(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "";

    private static string[] Cells(Row row) =>
    [
        row.Rank.ToString(CultureInfo.InvariantCulture),
        row.Method,
        Format(row.RelativeLoss, "0.0000"),
        Format(row.Amplification, "G3"),
        row.Parameters?.ToString(CultureInfo.InvariantCulture) ?? "",
        Format(row.Milliseconds, "0"),
        row.Error is null ? Format(row.Accuracy, "0.0000") : $"failed: {row.Error}",
    ];

    private static readonly string[] Header =
        ["k", "method", "relative weighted loss", "amplification", "parameters", "time (ms)", "test accuracy"];

    internal static string Markdown(IEnumerable<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| " + string.Join(" | ", Header) + " |");
        text.AppendLine("|" + string.Concat(Header.Select(_ => "---|")));
        foreach (var row in rows)
            text.AppendLine("| " + string.Join(" | ", Cells(row)) + " |");
        return text.ToString();
    }

    internal static string Csv(IEnumerable<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("k,method,relative_weighted_loss,amplification,parameters,milliseconds,test_accuracy,error");
        foreach (var row in rows)
        {
            var error = row.Error is null ? "" : Tables.CsvField(row.Error);
            text.AppendLine(string.Join(',',
                row.Rank, row.Method, Tables.CsvNumber(row.RelativeLoss), Tables.CsvNumber(row.Amplification),
                row.Parameters?.ToString(CultureInfo.InvariantCulture) ?? "", Format(row.Milliseconds, "0.0"),
                Tables.CsvNumber(row.Accuracy), error));
        }
        return text.ToString();
    }

    private static Table Table(IEnumerable<Row> rows)
    {
        var table = new Table();
        foreach (var (title, i) in Header.Select((h, i) => (h, i)))
            table.AddColumn(i is 0 or 1 ? new TableColumn(title) : new TableColumn(title).RightAligned());
        foreach (var row in rows)
            table.AddRow(Cells(row).Select(cell => Markup.Escape(cell)).ToArray());
        return table;
    }
}
