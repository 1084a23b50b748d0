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

    /// <summary>svd_w's bicriteria form (total rank r k, Theorem 1.2), shown beside the methods at equal storage.</summary>
    private const string Bicriteria = "svd-w (r k)";

    private static readonly string[] Columns = [.. Names, Bicriteria];

    public static Command Create(Terminal terminal)
    {
        var ranks = new Option<int[]>("--ranks") { Description = "Values of k.", DefaultValueFactory = _ => [5, 10, 20, 40], AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out", "-o") { Description = "Folder for table.md, results.csv and loss.svg.", DefaultValueFactory = _ => "results/weighted-synthetic" };
        var quick = new Option<bool>("--quick") { Description = "A small version: k = 5 and 10 only." };
        var seed = Options.Seed("the problem", 1);
        var command = new Command(
            "weighted-synthetic",
            "Woodruff and Yasuda (2024), synthetic: svd, svd_w, practical svd_w, em, em_w, als, adam, greedy and sample on a "
                + "400 x 200 problem with rank-2 weights, each storing at most k (n + d) numbers, and svd_w's bicriteria form at "
                + "rank 2k: weighted loss and time against the numbers stored."
        );
        Options.Add(command, ranks, output, quick, seed);
        command.SetAction(
            (parsed, cancellationToken) =>
            {
                const int n = 400, d = 200, weightRank = 2;
                var (a, w) = Synthetic.WeightedProblem(n, d, weightRank, parsed.GetValue(seed));
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
                    var runs = WeightedRuns.Run(a, weights, k, Names, new WlraOptions(), cancellationToken);
                    runs.AddRange(WeightedRuns.Run(a, weights, k, ["svd-w"], new WlraOptions { Bicriteria = true }, cancellationToken)
                        .Select(run => run with { Method = Bicriteria }));
                    foreach (var run in runs)
                        rows.Add((k, run.Method, run.Result?.Loss / norm, run.Time.TotalMilliseconds, run.Result?.Parameters, run.Error));
                    terminal.Console.WriteLine($"k = {k} done.");
                }

                var markdown = new StringBuilder(
                    "| k | budget k (n + d) | " + string.Join(" | ", Columns) + " |\n|---|---|" + string.Concat(Columns.Select(_ => "---|")) + "\n");
                foreach (var k in kValues)
                {
                    var budget = k * (n + d);
                    var best = rows.Where(r => r.K == k && r.Loss is not null && r.Parameters <= budget).Min(r => r.Loss!.Value);
                    markdown.Append($"| {k} | {budget} | ");
                    markdown.AppendLine(string.Join(" | ", Columns.Select(name =>
                    {
                        var r = rows.Single(x => x.K == k && x.Method == name);
                        if (r.Loss is not { } loss)
                            return "failed";
                        var text = $"{loss.ToString("0.0000", Invariant)} ({r.Milliseconds.ToString("0", Invariant)} ms)";
                        if (r.Parameters > budget)
                            return $"{text}, {r.Parameters} numbers";
                        // Bold for the lowest loss within the budget and ties with it.
                        return loss <= best * (1 + 1e-9) ? $"**{text}**" : text;
                    })) + " |");
                }
                File.WriteAllText(Path.Combine(folder, "table.md"),
                    "Relative weighted loss ||W o (A - A~)||_F / ||W o A||_F (time). Every method stores at most k (n + d) numbers, the "
                    + "storage of rank-k factors (practical svd_w keeps two rank-t parts, so t = k / 2); the lowest in each row (and "
                    + "ties) bold. svd-w (r k) is svd_w's bicriteria form of Theorem 1.2 at rank r k = 2k, twice the budget: shown, "
                    + "not compared.\n\n" + markdown);
                File.WriteAllText(Path.Combine(folder, "results.csv"),
                    "k,method,relative_loss,milliseconds,parameters,error\n" + string.Concat(rows.Select(r =>
                        $"{r.K},{Tables.CsvField(r.Method)},{Tables.CsvNumber(r.Loss)},{r.Milliseconds.ToString("0.0", Invariant)},{r.Parameters},{Tables.CsvField(r.Error ?? "")}\n")));
                // Loss against the numbers stored, not against k: methods on one budget share an abscissa, and the
                // bicriteria form sits at twice it.
                var series = Columns
                    .Select(name => (Name: name, Points: (IReadOnlyList<(double X, double Y)>)rows
                        .Where(r => r.Method == name && r.Loss is not null).Select(r => ((double)r.Parameters!.Value, r.Loss!.Value)).ToList()))
                    .Where(s => s.Points.Count > 0).ToList();
                Chart.Save(Chart.Lines("Weighted low-rank approximation, rank-2 weights", "numbers stored", "||W o (A - A~)||_F / ||W o A||_F", series, logX: true),
                    folder, "loss");
                terminal.Console.WriteLine(markdown.ToString());
                terminal.Console.WriteLine($"Wrote table.md, results.csv, loss.png and loss.svg to {folder}.");
                return System.Threading.Tasks.Task.FromResult(0);
            }
        );
        return command;
    }
}
