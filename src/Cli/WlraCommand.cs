using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using MathNet.Numerics.LinearAlgebra;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary><c>lowrank wlra</c>: weighted low-rank approximation of one matrix by one or all methods.</summary>
internal sealed class WlraCommand(Terminal terminal)
{
    private readonly Argument<string> matrix = new Argument<string>("matrix") { Description = "The matrix A (n x d): a 2-D .npy or a .csv file." };

    private readonly Option<string?> weights = new Option<string?>("--weights", "-w")
    {
        Description = "The nonnegative weights W (n x d): a 2-D .npy or a .csv file.",
    };

    private readonly Option<string[]> factors = new Option<string[]>("--weight-factors")
    {
        Description = "Instead of --weights: W = L R from two files, L (n x r) and R (r x d); W is then never formed "
            + "by svd-w, sample or the losses.",
        Arity = new ArgumentArity(2, 2),
        AllowMultipleArgumentsPerToken = true,
        HelpName = "left.npy right.npy",
    };

    private readonly Option<int> rank = Options.Rank(5);

    private readonly Option<string[]> methods = new Option<string[]>("--method")
    {
        Description = $"Methods to run (repeat, or 'all'): {string.Join(", ", WeightedRuns.Methods.Keys)}.",
        DefaultValueFactory = _ => ["all"],
        AllowMultipleArgumentsPerToken = true,
        HelpName = "name",
    };

    private static readonly WlraOptions Defaults = new WlraOptions();

    private readonly Option<int> iterations = new Option<int>("--max-iterations")
    {
        Description = "Iteration limit of em, em-w and als.",
        DefaultValueFactory = _ => Defaults.MaxIterations,
    };

    private readonly Option<int> adamSteps = new Option<int>("--adam-steps")
    {
        Description = "Steps of adam.",
        DefaultValueFactory = _ => Defaults.AdamSteps,
    };

    private readonly Option<double> learningRate = new Option<double>("--learning-rate")
    {
        Description = "adam's step, relative to the root-mean-square entry of A.",
        DefaultValueFactory = _ => Defaults.LearningRate,
    };

    private readonly Option<long?> parameters = new Option<long?>("--parameters")
    {
        Description = "The storage budget, in numbers, every method is compared at (default k (n + d), what rank-k factors "
            + "store): the rank-k methods take the largest k whose factors fit it; svd-w, svd-w-practical and sample the "
            + "largest total rank whose storage does.",
        HelpName = "p",
    };

    private readonly Option<bool> bicriteria = new Option<bool>("--bicriteria")
    {
        Description = "svd-w, svd-w-practical and sample at the paper's bicriteria rank r k (Theorem 1.2): r times the "
            + "storage of rank-k factors, so their rows are shown over budget and not compared.",
    };

    private readonly Option<string> weightRank = new Option<string>("--weight-rank")
    {
        Description = "With --bicriteria, r: a number (which implies --bicriteria), or 'auto' (W's rank when r k <= min(n, d), "
            + "else the --energy rule). em-w always starts from svd-w at r k.",
        DefaultValueFactory = _ => "auto",
        HelpName = "N|auto",
    };

    private readonly Option<int> budget = new Option<int>("--budget")
    {
        Description = "svd-w's total rank t directly, instead of the budget or r k (0: neither).",
        DefaultValueFactory = _ => 0,
    };

    private readonly Option<double> energy = new Option<double>("--energy")
    {
        Description = "With --weight-rank auto and W of rank above min(n, d)/k: the smallest r whose rank-r "
            + "approximation of W holds this fraction of ||W||_F^2.",
        DefaultValueFactory = _ => Defaults.EnergyFraction,
    };

    private readonly Option<double> floor = new Option<double>("--weight-floor")
    {
        Description = "Divide by max(W, f max W) on positive weights: bounds the amplification of tiny weights (0: exact).",
        DefaultValueFactory = _ => 0.0,
    };

    private readonly Option<string> emStart = Options.Choice("--em-start", "em's start: [A]_k ('svd') or 0 ('zero').", "svd", "svd", "zero");

    private readonly Option<int> seed = Options.Seed("sample's row sampling");

    private readonly Option<string?> output = new Option<string?>("--out", "-o")
    {
        Description = "With one method: write its approximation as <prefix>.npy (n x d, dense).",
    };

    private readonly Option<bool> json = Options.Json();

    private readonly Option<string?> csv = Options.CsvFile();

    public static Command Create(Terminal terminal) => new WlraCommand(terminal).Build();

    private Command Build()
    {
        methods.AcceptOnlyFromAmong([.. WeightedRuns.Methods.Keys, "all"]);
        var command = new Command(
            "wlra",
            "Weighted low-rank approximation: minimise ||W o (A - A~)||_F. svd-w reweights a rank r k approximation of W o A "
                + "by W^(o-1) (Woodruff and Yasuda 2024, Algorithm 1); the others are the classic baselines."
        );
        Options.Add(
            command,
            matrix,
            weights,
            factors,
            rank,
            methods,
            parameters,
            bicriteria,
            iterations,
            adamSteps,
            learningRate,
            weightRank,
            budget,
            energy,
            floor,
            emStart,
            seed,
            output,
            json,
            csv
        );

        command.SetAction(Run);
        return command;
    }

    private Task<int> Run(ParseResult parsed, CancellationToken cancellationToken)
    {
        if (parsed.GetValue(output) is { } outputPrefix)
            Inputs.RequireFolderOf(outputPrefix, "--out");
        var csvPath = parsed.GetValue(csv);
        if (csvPath is not null)
            Inputs.RequireFolderOf(csvPath, "--csv");
        var chosen = parsed.GetValue(methods) ?? ["all"];
        var names = chosen.Contains("all") ? WeightedRuns.Methods.Keys.ToArray() : chosen.Distinct().ToArray();
        var rankWord = parsed.GetValue(weightRank) ?? "auto";
        int r = 0;
        if (rankWord != "auto" && !(int.TryParse(rankWord, out r) && r >= 1))
            throw new ArgumentException($"--weight-rank: expected a whole number >= 1 or 'auto', but it is '{rankWord}'.");
        var options = new WlraOptions
        {
            MaxIterations = parsed.GetValue(iterations),
            AdamSteps = parsed.GetValue(adamSteps),
            LearningRate = parsed.GetValue(learningRate),
            Seed = parsed.GetValue(seed),
            WeightRank = r,
            TotalRank = parsed.GetValue(budget),
            EnergyFraction = parsed.GetValue(energy),
            WeightFloor = parsed.GetValue(floor),
            Parameters = parsed.GetValue(parameters) ?? 0,
            Bicriteria = parsed.GetValue(bicriteria),
        };
        CheckOptions(options);
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
        options = options with
        {
            WarmStart = parsed.GetValue(emStart) == "zero" ? Matrix<double>.Build.Dense(a.RowCount, a.ColumnCount) : null,
        };
        var (k, budgetNumbers) = Budget(a, parsed.GetValue(rank), parsed.GetValue(parameters));
        var runs = WeightedRuns.Run(a, w, k, names, options, cancellationToken);
        var succeeded = runs.Where(run => run.Result is not null).ToList();
        if (succeeded.Count == 0)
            throw new ArgumentException(runs.Count == 1 ? runs[0].Error! : $"every method failed; {runs[0].Method}: {runs[0].Error}");

        var prefix = parsed.GetValue(output);
        if (prefix is not null)
        {
            if (runs.Count != 1)
                throw new ArgumentException($"--out writes one approximation, but {runs.Count} methods ran; choose one with --method.");
            Npy.WriteMatrix($"{prefix}.npy", runs[0].Result!.ToMatrix());
        }

        if (csvPath is not null)
            Tables.WriteCsv(csvPath,
                ["method", "loss", "milliseconds", "parameters", "rank", "weight_rank", "amplification", "iterations", "converged", "within_budget", "error"],
                runs.Select(run => run.Result is { } result
                    ? new[]
                    {
                        run.Method, Tables.CsvNumber(result.Loss), Tables.CsvNumber(run.Time.TotalMilliseconds), $"{result.Parameters}",
                        $"{result.Rank}", $"{result.WeightRank}", Tables.CsvNumber(result.Amplification), $"{result.Iterations}",
                        result.Converged ? "true" : "false", result.Parameters <= budgetNumbers ? "true" : "false", "",
                    }
                    : new[] { run.Method, "", Tables.CsvNumber(run.Time.TotalMilliseconds), "", "", "", "", "", "", "", run.Error ?? "" }));

        if (parsed.GetValue(json))
        {
            var report = runs.Select(run => run.Result is { } result
                ? (object)new
                {
                    method = run.Method,
                    bicriteria = result.WeightRank > 0,
                    withinBudget = result.Parameters <= budgetNumbers,
                    loss = result.Loss,
                    seconds = run.Time.TotalSeconds,
                    parameters = result.Parameters,
                    rank = result.Rank,
                    weightRank = result.WeightRank,
                    rankChoice = result.RankChoice,
                    amplification = result.Amplification,
                    iterations = result.Iterations,
                    converged = result.Converged,
                }
                : new { method = run.Method, error = run.Error });
            terminal.Output.WriteLine(
                JsonSerializer.Serialize(
                    new { rows = a.RowCount, columns = a.ColumnCount, weightRank = w.Rank, rank = k, budget = budgetNumbers, results = report },
                    Json.Options)
            );
            return Task.FromResult(0);
        }

        terminal.Console.WriteLine(
            $"Weighted low-rank approximation of a {a.RowCount} x {a.ColumnCount} matrix at rank {k}, weights of rank {w.Rank}; "
                + $"budget {budgetNumbers} numbers."
        );
        WeightedRuns.Print(terminal, runs, budgetNumbers, (long)a.RowCount * a.ColumnCount);
        foreach (var group in succeeded.Where(run => run.Result!.RankChoice.Length > 0).GroupBy(run => run.Result!.RankChoice))
            terminal.Console.MarkupLineInterpolated($"{string.Join(", ", group.Select(WeightedRuns.Label))}: {group.Key}.");
        if (prefix is not null)
            terminal.Console.WriteLine($"Wrote {prefix}.npy.");
        if (csvPath is not null)
            terminal.Console.WriteLine($"Wrote {csvPath}.");
        return Task.FromResult(0);
    }

    /// <summary>The option names of the command line, by the field of <see cref="WlraOptions"/> they set.</summary>
    private static readonly IReadOnlyDictionary<string, string> Flags = new Dictionary<string, string>
    {
        ["MaxIterations"] = "--max-iterations",
        ["AdamSteps"] = "--adam-steps",
        ["LearningRate"] = "--learning-rate",
        ["WeightRank"] = "--weight-rank",
        ["TotalRank"] = "--budget",
        ["EnergyFraction"] = "--energy",
        ["WeightFloor"] = "--weight-floor",
        ["Parameters"] = "--parameters",
    };

    /// <summary>Checks every option before any method runs, so a bad value is one line and a nonzero exit, not a column of
    /// failed rows; the library's message names the field, shown here as its flag.</summary>
    internal static void CheckOptions(WlraOptions options)
    {
        try
        {
            Wlra.Validate(options);
        }
        catch (ArgumentOutOfRangeException e)
        {
            // The message without the " (Parameter 'options') Actual value was ..." that the exception appends.
            var own = e.Message.Split(" (Parameter '")[0];
            throw new ArgumentException(Flags.Aggregate(own, (text, flag) => text.Replace($"options.{flag.Key}", flag.Value)));
        }
    }

    /// <summary>The rank k of the rank-k methods and the budget every method is compared at: k (n + d) numbers, or
    /// --parameters p with k the largest whose factors fit p.</summary>
    internal static (int Rank, long Budget) Budget(Matrix<double> a, int rank, long? parameters)
    {
        long unit = a.RowCount + a.ColumnCount;
        if (parameters is not { } p)
            return (rank, rank * unit);
        if (p < unit)
            throw new ArgumentException(
                $"--parameters: expected at least n + d = {unit} numbers (rank-1 factors of a {a.RowCount} x {a.ColumnCount} matrix), but it is {p}.");
        return ((int)Math.Min(p / unit, Math.Min(a.RowCount, a.ColumnCount)), p);
    }
}
