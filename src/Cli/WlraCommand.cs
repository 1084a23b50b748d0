using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using System.Threading;
using MathNet.Numerics.LinearAlgebra;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary><c>lowrank wlra</c>: weighted low-rank approximation of one matrix by one or all methods.</summary>
internal static class WlraCommand
{
    /// <summary>The methods by their command-line names, in the order a table lists them.</summary>
    public static readonly IReadOnlyDictionary<string, Func<Matrix<double>, Weights, int, WlraOptions, WeightedApproximation>> Methods =
        new Dictionary<string, Func<Matrix<double>, Weights, int, WlraOptions, WeightedApproximation>>
        {
            ["svd"] = (a, w, k, _) => Wlra.Svd(a, w, k),
            ["svd-w"] = (a, w, k, _) => Wlra.SvdW(a, w, k),
            ["svd-w-practical"] = (a, w, k, _) => Wlra.SvdWPractical(a, w, k),
            ["em"] = Wlra.Em,
            ["em-w"] = Wlra.EmW,
            ["als"] = Wlra.Als,
            ["adam"] = Wlra.Adam,
            ["greedy"] = (a, w, k, _) => Wlra.Greedy(a, w, k),
            ["sample"] = Wlra.Sample,
        };

    public static Command Create(Terminal terminal)
    {
        var matrix = new Argument<string>("matrix") { Description = "The matrix A (n x d): a 2-D .npy or a .csv file." };
        var weights = new Option<string?>("--weights", "-w")
        {
            Description = "The nonnegative weights W (n x d): a 2-D .npy or a .csv file.",
        };
        var factors = new Option<string[]>("--weight-factors")
        {
            Description = "Instead of --weights: W = L R from two files, L (n x r) and R (r x d); W is then never formed "
                + "by svd-w, sample or the losses.",
            Arity = new ArgumentArity(2, 2),
            AllowMultipleArgumentsPerToken = true,
            HelpName = "left.npy right.npy",
        };
        var rank = Options.Rank(5);
        var methods = new Option<string[]>("--method")
        {
            Description = $"Methods to run (repeat, or 'all'): {string.Join(", ", Methods.Keys)}.",
            DefaultValueFactory = _ => ["all"],
            AllowMultipleArgumentsPerToken = true,
            HelpName = "name",
        };
        methods.AcceptOnlyFromAmong([.. Methods.Keys, "all"]);
        var iterations = new Option<int>("--max-iterations")
        {
            Description = "Iteration limit of em, em-w, als and adam.",
            DefaultValueFactory = _ => new WlraOptions().MaxIterations,
        };
        var seed = Options.Seed("sample's row sampling");
        var output = new Option<string?>("--out", "-o")
        {
            Description = "With one method: write its approximation as <prefix>.npy (n x d, dense).",
        };
        var json = Options.Json();

        var command = new Command(
            "wlra",
            "Weighted low-rank approximation: minimise ||W o (A - A~)||_F. svd-w reweights a rank r k approximation of W o A "
                + "by W^(o-1) (Woodruff and Yasuda 2024, Algorithm 1); the others are the classic baselines."
        );
        Options.Add(command, matrix, weights, factors, rank, methods, iterations, seed, output, json);

        command.SetAction(
            (parsed, cancellationToken) =>
            {
                var a = Inputs.ReadMatrix(parsed.GetRequiredValue(matrix), "matrix");
                // An array option that is absent reads as empty, not null.
                var factorFiles = parsed.GetValue(factors) is { Length: > 0 } given ? given : null;
                var w = (parsed.GetValue(weights), factorFiles) switch
                {
                    ({ } path, null) => Weights.FromMatrix(Inputs.ReadMatrix(path, "--weights")),
                    (null, [var left, var right]) => Weights.FromFactors(
                        Inputs.ReadMatrix(left, "--weight-factors"),
                        Inputs.ReadMatrix(right, "--weight-factors")
                    ),
                    (null, _) => throw new ArgumentException("wlra needs the weights: --weights w.npy, or --weight-factors left.npy right.npy."),
                    _ => throw new ArgumentException("Give the weights once: --weights or --weight-factors, not both."),
                };
                var chosen = parsed.GetValue(methods) ?? ["all"];
                var names = chosen.Contains("all") ? Methods.Keys.ToArray() : chosen.Distinct().ToArray();
                var options = new WlraOptions { MaxIterations = parsed.GetValue(iterations), Seed = parsed.GetValue(seed) };
                var runs = Run(a, w, parsed.GetValue(rank), names, options, cancellationToken);

                var prefix = parsed.GetValue(output);
                if (prefix is not null)
                {
                    if (runs.Count != 1)
                        throw new ArgumentException($"--out writes one approximation, but {runs.Count} methods ran; choose one with --method.");
                    Npy.WriteMatrix($"{prefix}.npy", runs[0].Result.ToMatrix());
                }

                if (parsed.GetValue(json))
                {
                    var report = runs.Select(run => new
                    {
                        method = run.Method,
                        loss = run.Result.Loss,
                        seconds = run.Time.TotalSeconds,
                        parameters = run.Result.Parameters,
                        rank = run.Result.Rank,
                        iterations = run.Result.Iterations,
                        converged = run.Result.Converged,
                    });
                    terminal.Output.WriteLine(
                        JsonSerializer.Serialize(new { rows = a.RowCount, columns = a.ColumnCount, weightRank = w.Rank, results = report }, Json.Options)
                    );
                    return System.Threading.Tasks.Task.FromResult(0);
                }

                terminal.Console.WriteLine(
                    $"Weighted low-rank approximation of a {a.RowCount} x {a.ColumnCount} matrix at rank {parsed.GetValue(rank)}, "
                        + $"weights of rank {w.Rank}."
                );
                terminal.Console.Write(Table(runs));
                if (prefix is not null)
                    terminal.Console.WriteLine($"Wrote {prefix}.npy.");
                return System.Threading.Tasks.Task.FromResult(0);
            }
        );
        return command;
    }

    internal sealed record WlraRun(string Method, WeightedApproximation Result, TimeSpan Time);

    /// <summary>Runs the named methods in order, timing each; Ctrl+C stops between methods.</summary>
    public static List<WlraRun> Run(
        Matrix<double> a,
        Weights w,
        int rank,
        IEnumerable<string> names,
        WlraOptions options,
        CancellationToken cancellationToken
    )
    {
        var runs = new List<WlraRun>();
        foreach (var name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            var result = Methods[name](a, w, rank, options);
            runs.Add(new WlraRun(name, result, clock.Elapsed));
        }
        return runs;
    }

    /// <summary>Loss, time and storage of each run; the lowest loss is marked.</summary>
    public static Table Table(IReadOnlyList<WlraRun> runs)
    {
        var best = runs.Min(run => run.Result.Loss);
        var table = new Table()
            .AddColumn("method")
            .AddColumn(new TableColumn("weighted loss").RightAligned())
            .AddColumn(new TableColumn("time (ms)").RightAligned())
            .AddColumn(new TableColumn("parameters").RightAligned())
            .AddColumn(new TableColumn("rank").RightAligned())
            .AddColumn(new TableColumn("iterations").RightAligned())
            .AddColumn("converged");
        foreach (var run in runs)
        {
            var loss = $"{run.Result.Loss:G6}";
            table.AddRow(
                run.Method,
                run.Result.Loss == best ? $"[bold]{loss}[/] *" : loss,
                $"{run.Time.TotalMilliseconds:0.0}",
                $"{run.Result.Parameters}",
                $"{run.Result.Rank}",
                $"{run.Result.Iterations}",
                run.Result.Converged ? "yes" : "no"
            );
        }
        return table;
    }
}
