using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using MathNet.Numerics.LinearAlgebra;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary>Running the weighted methods by name and printing their table: what <c>wlra</c>, <c>demo</c> and the
/// weighted experiments share, so that no command calls another.</summary>
internal static class WeightedRuns
{
    /// <summary>The methods by their command-line names, in the order a table lists them.</summary>
    public static readonly IReadOnlyDictionary<string, Func<Matrix<double>, Weights, int, WlraOptions, CancellationToken, WeightedApproximation>> Methods =
        new Dictionary<string, Func<Matrix<double>, Weights, int, WlraOptions, CancellationToken, WeightedApproximation>>
        {
            ["svd"] = (a, w, k, _, _) => Wlra.Svd(a, w, k),
            ["svd-w"] = (a, w, k, o, _) => Wlra.SvdW(a, w, k, o),
            ["svd-w-practical"] = (a, w, k, o, _) => Wlra.SvdWPractical(a, w, k, o),
            ["em"] = (a, w, k, o, t) => Wlra.Em(a, w, k, o, null, t),
            ["em-w"] = (a, w, k, o, t) => Wlra.EmW(a, w, k, o, null, t),
            ["als"] = (a, w, k, o, t) => Wlra.Als(a, w, k, o, null, t),
            ["adam"] = (a, w, k, o, t) => Wlra.Adam(a, w, k, o, null, t),
            ["greedy"] = (a, w, k, _, t) => Wlra.Greedy(a, w, k, null, t),
            ["sample"] = (a, w, k, o, _) => Wlra.Sample(a, w, k, o),
        };

    /// <summary>One method's result, or the one-line reason it could not run.</summary>
    internal sealed record WlraRun(string Method, WeightedApproximation? Result, TimeSpan Time, string? Error = null);

    /// <summary>Runs the named methods in order, timing each. A method that rejects the problem (ArgumentException) becomes
    /// a run with its message, so one failing method does not hide the others; Ctrl+C stops within one iteration.</summary>
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
            try
            {
                runs.Add(new WlraRun(name, Methods[name](a, w, rank, options, cancellationToken), clock.Elapsed));
            }
            catch (ArgumentException e)
            {
                runs.Add(new WlraRun(name, null, clock.Elapsed, App.OneLine(e.Message)));
            }
        }
        return runs;
    }

    /// <summary>The table, then one line for rows over the budget (not compared) and one for rows that store more numbers
    /// than the dense matrix.</summary>
    internal static void Print(Terminal terminal, IReadOnlyList<WlraRun> runs, long budget, long denseNumbers)
    {
        terminal.Console.Write(Table(runs, budget));
        var over = runs.Where(run => run.Result is { } result && result.Parameters > budget).ToList();
        if (over.Count > 0)
            terminal.Console.WriteLine(
                $"{string.Join(", ", over.Select(Label))} {Verb(over)} more than the budget of {budget} numbers: shown, not compared.");
        var dense = runs.Where(run => run.Result is { } result && result.Parameters > denseNumbers).ToList();
        if (dense.Count > 0)
            terminal.Console.WriteLine(
                $"{string.Join(", ", dense.Select(run => $"{Label(run)} ({run.Result!.Parameters})"))} {Verb(dense)} more numbers than the "
                    + $"dense matrix's {denseNumbers}.");
    }

    private static string Verb<T>(IReadOnlyCollection<T> subjects) => subjects.Count == 1 ? "stores" : "store";

    /// <summary>The method's name, marked when it ran at the bicriteria rank r k (em-w stores rank k; its r is its start's).</summary>
    internal static string Label(WlraRun run) =>
        run.Result is { WeightRank: > 0 } && run.Method != "em-w" ? $"{run.Method} (r k)" : run.Method;

    /// <summary>Loss, time and storage of each run; the lowest loss among the runs within the budget is marked.</summary>
    public static Table Table(IReadOnlyList<WlraRun> runs, long budget)
    {
        var best = runs
            .Where(run => run.Result is { } result && result.Parameters <= budget)
            .Select(run => run.Result!.Loss)
            .DefaultIfEmpty(double.NaN)
            .Min();
        var table = new Table()
            .AddColumn("method")
            .AddColumn(new TableColumn("weighted loss").RightAligned())
            .AddColumn(new TableColumn("time (ms)").RightAligned())
            .AddColumn(new TableColumn("parameters").RightAligned())
            .AddColumn(new TableColumn("rank").RightAligned())
            .AddColumn(new TableColumn("amplification").RightAligned())
            .AddColumn(new TableColumn("iterations").RightAligned())
            .AddColumn("converged");
        foreach (var run in runs)
        {
            if (run.Result is not { } result)
            {
                table.AddRow(Markup.Escape(run.Method), $"[red]failed: {Markup.Escape(run.Error ?? "")}[/]", "", "", "", "", "", "");
                continue;
            }
            var loss = $"{result.Loss:G6}";
            var within = result.Parameters <= budget;
            table.AddRow(
                Markup.Escape(Label(run)),
                within && result.Loss == best ? $"[bold]{loss}[/] *" : loss,
                $"{run.Time.TotalMilliseconds:0.0}",
                within ? $"{result.Parameters}" : $"{result.Parameters} [yellow](over)[/]",
                $"{result.Rank}",
                $"{result.Amplification:G3}",
                $"{result.Iterations}",
                result.Converged ? "yes" : "no"
            );
        }
        return table;
    }
}
