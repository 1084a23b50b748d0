using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using MathNet.Numerics.LinearAlgebra;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary>
/// <c>lowrank reproduce training-choices</c>: how the training loss (Frobenius, V-norm, weighted Frobenius) and the
/// differentiated SVD (the exact adjoint against the paper's power method, T = 10 and 100) change a learned sketch of
/// the 2019 kind (random positions, one value per column), measured on the video's frames in every norm, with time.
/// </summary>
internal static class TrainingChoicesExperiment
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Command Create(Terminal terminal)
    {
        var data = Options.VideoFrames();
        var train = Options.Frames("--train", "Training", "0:600:5");
        var test = Options.Frames("--test", "Test", "600::5");
        var ranks = new Option<int[]>("--ranks") { Description = "Values of k (m = 2k).", DefaultValueFactory = _ => [10, 20], AllowMultipleArgumentsPerToken = true };
        var steps = new Option<int>("--steps") { Description = "Steps of each loss's training.", DefaultValueFactory = _ => 200 };
        var powerSteps = new Option<int>("--power-steps") { Description = "Steps of each SVD method's training.", DefaultValueFactory = _ => 40 };
        var output = new Option<string>("--out", "-o") { Description = "Folder for table.md and results.csv.", DefaultValueFactory = _ => "results/training-choices" };
        var quick = new Option<bool>("--quick") { Description = "A small version: every 20th frame, k = 10 only, 20 and 4 steps." };
        var command = new Command(
            "training-choices",
            "Training losses (Frobenius, V-norm, weighted) and the differentiated SVD (exact adjoint, power method T = 10, 100) "
                + "for the 2019 learned sketch: test error in every norm, and time."
        );
        Options.Add(command, data, train, test, ranks, steps, powerSteps, output, quick);
        command.SetAction(
            async (parsed, cancellationToken) =>
            {
                var isQuick = parsed.GetValue(quick);
                string Thin(string select) => isQuick ? (select.Split(':').Length == 3 ? select[..select.LastIndexOf(':')] : select) + ":20" : select;
                var path = parsed.GetRequiredValue(data);
                var training = Inputs.ReadStack(path, Thin(parsed.GetRequiredValue(train)), "--train");
                var testing = Inputs.ReadStack(path, Thin(parsed.GetRequiredValue(test)), "--test");
                var kValues = isQuick ? [10] : parsed.GetValue(ranks) ?? [10, 20];
                var lossSteps = isQuick ? 20 : parsed.GetValue(steps);
                var svdSteps = isQuick ? 4 : parsed.GetValue(powerSteps);
                var folder = parsed.GetRequiredValue(output);
                Directory.CreateDirectory(folder);
                var weights = Video.MotionWeights(training);
                terminal.Console.WriteLine(
                    $"{training.Length} training and {testing.Length} test frames of {training[0].RowCount} x {training[0].ColumnCount}; "
                        + $"weights: 1 + each pixel's standard deviation over the training frames / its mean.");

                var rows = new List<string[]>();
                foreach (var k in kValues)
                {
                    var baseline = Training.Defaults(k, 2 * k) with
                    {
                        Positions = SketchPositions.Random, NonzerosPerColumn = 1, LearningRate = 0.05, Steps = lossSteps,
                    };
                    var random = Sketch.CountSketch(2 * k, training[0].RowCount, 1);
                    rows.Add(Measure(k, "random CountSketch (no training)", random, 0, 0, testing, weights));
                    foreach (var (name, loss) in new[]
                             {
                                 ("Frobenius loss", TrainingLoss.Frobenius), ("V-norm loss", TrainingLoss.VNorm),
                                 ("weighted Frobenius loss", TrainingLoss.WeightedFrobenius),
                             })
                    {
                        var options = baseline with { Loss = loss, LossWeights = loss == TrainingLoss.WeightedFrobenius ? weights : null };
                        var (sketch, seconds, perStep) = await Run(terminal, $"k={k} {name}", training, options, cancellationToken);
                        rows.Add(Measure(k, $"{name}, {lossSteps} steps", sketch, seconds, perStep, testing, weights));
                    }
                }

                var svdRows = new List<string[]>();
                var first = kValues[0];
                foreach (var (name, svd, iterations) in new[]
                         {
                             ("exact SVD adjoint", SvdMethod.Exact, 0), ("power method, T = 10", SvdMethod.PowerMethod, 10),
                             ("power method, T = 100", SvdMethod.PowerMethod, 100),
                         })
                {
                    var options = Training.Defaults(first, 2 * first) with
                    {
                        Positions = SketchPositions.Random, NonzerosPerColumn = 1, LearningRate = 0.05, Steps = svdSteps,
                        Svd = svd, PowerIterations = Math.Max(1, iterations),
                    };
                    var (sketch, seconds, perStep) = await Run(terminal, $"k={first} {name}", training, options, cancellationToken);
                    svdRows.Add(Measure(first, $"{name}, {svdSteps} steps", sketch, seconds, perStep, testing, weights));
                }

                // "‖", not "||": a pipe would split a Markdown table cell.
                string[] header = ["k", "sketch", "Err(Te, S)", "mean ‖A - SCW‖_F", "mean ‖A - SCW‖_V", "mean ‖W o (A - SCW)‖_F", "training (s)", "per step (s)"];
                var markdown = new StringBuilder();
                void Table(IEnumerable<string[]> body)
                {
                    markdown.AppendLine("| " + string.Join(" | ", header) + " |");
                    markdown.AppendLine("|" + string.Concat(header.Select(_ => "---|")));
                    foreach (var row in body)
                        markdown.AppendLine("| " + string.Join(" | ", row) + " |");
                }
                markdown.AppendLine("Training losses (m = 2k; each frame scaled to sigma_1 = 1; lower is better):\n");
                Table(rows);
                markdown.AppendLine($"\nDifferentiated SVD (k = {first}, m = {2 * first}):\n");
                Table(svdRows);
                File.WriteAllText(Path.Combine(folder, "table.md"), markdown.ToString());
                File.WriteAllText(
                    Path.Combine(folder, "results.csv"),
                    "k,sketch,test_error,frobenius,vnorm,weighted,training_seconds,seconds_per_step\n"
                        + string.Concat(rows.Concat(svdRows).Select(r => string.Join(",", r.Select((cell, i) => i == 1 ? $"\"{cell}\"" : cell)) + "\n")));

                var table = new Table();
                foreach (var column in header)
                    table.AddColumn(column);
                foreach (var row in rows.Concat(svdRows))
                    table.AddRow(row.Select(Markup.Escape).ToArray());
                terminal.Console.Write(table);
                terminal.Console.WriteLine($"Wrote table.md and results.csv to {folder}.");
                return 0;
            }
        );
        return command;
    }

    private static async System.Threading.Tasks.Task<(Sketch Sketch, double Seconds, double PerStep)> Run(
        Terminal terminal, string label, Matrix<double>[] training, TrainingOptions options, System.Threading.CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TrainingProgress? last = null;
        var result = await TrainingRun.RunAsync(terminal, label, training, options, cancellationToken, p => last = p);
        cancellationToken.ThrowIfCancellationRequested();
        // The steps alone: the last report's time since training started, over the steps done.
        var perStep = last is { } report && report.Step > 0 ? report.Elapsed.TotalSeconds / report.Step : 0;
        return (result.Sketch, clock.Elapsed.TotalSeconds, perStep);
    }

    /// <summary>One table row: the paper's Err(Te, S), and the mean residual of SCW in the three norms, every test frame
    /// scaled to sigma_1 = 1.</summary>
    private static string[] Measure(int k, string name, Sketch sketch, double seconds, double perStep, Matrix<double>[] testing, Matrix<double> weights)
    {
        var err = Scw.TestErrors(testing, [sketch], k, Normalization.TopSingularValue)[0];
        var means = Scw.TestResiduals(testing, sketch, k, Normalization.TopSingularValue, Norm.Frobenius, Norm.VNorm,
            residual => Norm.WeightedFrobenius(residual, weights));
        return
        [
            k.ToString(Invariant), name, err.ToString("0.000000", Invariant), means[0].ToString("0.000000", Invariant),
            means[1].ToString("0.0000", Invariant), means[2].ToString("0.000000", Invariant),
            seconds.ToString("0.0", Invariant), perStep.ToString("0.000", Invariant),
        ];
    }
}
