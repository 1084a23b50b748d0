using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary>
/// <c>lowrank reproduce weighted-synthetic</c>: the synthetic comparison of Woodruff and Yasuda (2024): every weighted
/// method on a problem with low-rank weights, weighted loss and time as the rank k grows.
/// </summary>
internal static class WeightedSyntheticExperiment
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly string[] Names = ["svd", "svd-w", "svd-w-practical", "em", "em-w", "als", "adam", "greedy", "sample"];

    public static Command Create(Terminal terminal)
    {
        var ranks = new Option<int[]>("--ranks") { Description = "Values of k.", DefaultValueFactory = _ => [5, 10, 20, 40], AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out", "-o") { Description = "Folder for table.md, results.csv and loss.svg.", DefaultValueFactory = _ => "results/weighted-synthetic" };
        var quick = new Option<bool>("--quick") { Description = "A small version: k = 5 and 10 only." };
        var seed = Options.Seed("the problem", 1);
        var command = new Command(
            "weighted-synthetic",
            "Woodruff and Yasuda (2024), synthetic: svd, svd_w, practical svd_w, em, em_w, als, adam, greedy and sample on a "
                + "400 x 200 problem with rank-2 weights, weighted loss and time against k."
        );
        Options.Add(command, ranks, output, quick, seed);
        command.SetAction(
            (parsed, cancellationToken) =>
            {
                const int n = 400, d = 200, weightRank = 2;
                var (a, w) = DemoCommand.WeightedProblem(n, d, weightRank, parsed.GetValue(seed));
                var weights = Weights.FromMatrix(w);
                var norm = Norm.WeightedFrobenius(a, w);
                var kValues = parsed.GetValue(quick) ? [5, 10] : parsed.GetValue(ranks) ?? [5, 10, 20, 40];
                var folder = parsed.GetRequiredValue(output);
                Directory.CreateDirectory(folder);
                terminal.Console.WriteLine(
                    $"A: {n} x {d}, a rank-20 signal plus noise of per-row and per-column variance; W (rank {weightRank}): the noise's "
                        + "precision profiles. Loss ||W o (A - A~)||_F / ||W o A||_F.");

                var rows = new List<(int K, string Method, double? Loss, double Milliseconds, int? Parameters, string? Error)>();
                foreach (var k in kValues)
                {
                    foreach (var run in WlraCommand.Run(a, weights, k, Names, new WlraOptions(), cancellationToken))
                        rows.Add((k, run.Method, run.Result?.Loss / norm, run.Time.TotalMilliseconds, run.Result?.Parameters, run.Error));
                    terminal.Console.WriteLine($"k = {k} done.");
                }

                var markdown = new StringBuilder("| k | " + string.Join(" | ", Names) + " |\n|---|" + string.Concat(Names.Select(_ => "---|")) + "\n");
                foreach (var k in kValues)
                {
                    var best = rows.Where(r => r.K == k && r.Loss is not null).Min(r => r.Loss!.Value);
                    markdown.Append($"| {k} | ");
                    markdown.AppendLine(string.Join(" | ", Names.Select(name =>
                    {
                        var r = rows.Single(x => x.K == k && x.Method == name);
                        if (r.Loss is not { } loss)
                            return "failed";
                        var text = $"{loss.ToString("0.0000", Invariant)} ({r.Milliseconds.ToString("0", Invariant)} ms)";
                        // Bold for the lowest loss and ties with it (svd_w and its practical form agree to rounding).
                        return loss <= best * (1 + 1e-9) ? $"**{text}**" : text;
                    })) + " |");
                }
                File.WriteAllText(Path.Combine(folder, "table.md"),
                    "Relative weighted loss ||W o (A - A~)||_F / ||W o A||_F (time); the lowest in each row (and ties) bold. svd_w and its "
                    + "practical form store rank r k = 2k.\n\n" + markdown);
                File.WriteAllText(Path.Combine(folder, "results.csv"),
                    "k,method,relative_loss,milliseconds,parameters,error\n" + string.Concat(rows.Select(r =>
                        $"{r.K},{r.Method},{Tables.CsvNumber(r.Loss)},{r.Milliseconds.ToString("0.0", Invariant)},{r.Parameters},{Tables.CsvField(r.Error ?? "")}\n")));
                var series = Names
                    .Select(name => (Name: name, Points: (IReadOnlyList<(double X, double Y)>)rows
                        .Where(r => r.Method == name && r.Loss is not null).Select(r => ((double)r.K, r.Loss!.Value)).ToList()))
                    .Where(s => s.Points.Count > 0).ToList();
                Chart.Save(Chart.Lines("Weighted low-rank approximation, rank-2 weights", "rank k", "||W o (A - A~)||_F / ||W o A||_F", series),
                    folder, "loss");
                terminal.Console.WriteLine(markdown.ToString());
                terminal.Console.WriteLine($"Wrote table.md, results.csv, loss.png and loss.svg to {folder}.");
                return System.Threading.Tasks.Task.FromResult(0);
            }
        );
        return command;
    }
}
