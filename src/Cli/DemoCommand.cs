using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MathNet.Numerics.LinearAlgebra;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary><c>lowrank demo</c>: the main job end to end on generated data, needing no download.</summary>
internal static class DemoCommand
{
    public static Command Create(Terminal terminal)
    {
        var seed = Options.Seed("the generated data and the random sketches", 1);
        var height = new Option<int>("--height") { Description = "Rows n of each frame.", DefaultValueFactory = _ => 240 };
        var width = new Option<int>("--width") { Description = "Columns d of each frame.", DefaultValueFactory = _ => 320 };
        var train = new Option<int>("--train") { Description = "Training frames.", DefaultValueFactory = _ => 64 };
        var test = new Option<int>("--test") { Description = "Test frames (the ones after the training frames).", DefaultValueFactory = _ => 16 };
        var steps = new Option<int>("--steps") { Description = "Training steps per learned sketch.", DefaultValueFactory = _ => 500 };
        var rank = Options.Rank();
        var rows = new Option<int>("--rows", "-m") { Description = "Sketch rows m.", DefaultValueFactory = _ => 20 };

        var command = new Command(
            "demo",
            "The main job on generated video-like data (no download): train learned and mixed sketches, compare their test "
                + "error with random sketches, then compare svd, svd_w, em and em_w on a weighted problem."
        );
        Options.Add(command, seed, height, width, train, test, steps, rank, rows);

        command.SetAction(
            async (parsed, cancellationToken) =>
            {
                var settings = new Settings(
                    parsed.GetValue(seed),
                    parsed.GetValue(height),
                    parsed.GetValue(width),
                    parsed.GetValue(train),
                    parsed.GetValue(test),
                    parsed.GetValue(steps),
                    parsed.GetValue(rank),
                    parsed.GetValue(rows)
                );
                await SketchesAsync(terminal, settings, cancellationToken);
                Weighted(terminal, settings, cancellationToken);
                return 0;
            }
        );
        return command;
    }

    private sealed record Settings(int Seed, int Height, int Width, int Train, int Test, int Steps, int Rank, int Rows);

    private static async Task SketchesAsync(Terminal terminal, Settings s, CancellationToken cancellationToken)
    {
        var frames = Synthetic.VideoLike(s.Train + s.Test, s.Height, s.Width, s.Seed);
        var training = frames[..s.Train];
        var testing = frames[s.Train..];
        terminal.Console.Write(new Rule("[bold]1. Learned sketches[/] (Indyk, Vakilian and Yuan, NeurIPS 2019)").LeftJustified());
        terminal.Console.WriteLine(
            $"{s.Train} training and {s.Test} test frames of {s.Height} x {s.Width}: a slowly changing rank-4 background, "
                + "moving objects and noise. SCW(S, A) = [A V]_k V^T with V from the SVD of S A; "
                + $"k = {s.Rank}, m = {s.Rows}."
        );

        var clock = Stopwatch.StartNew();
        var options = new TrainingOptions { Rank = s.Rank, SketchRows = s.Rows, Steps = s.Steps, Seed = s.Seed };
        var kinds = new[]
        {
            ("learned", LearnedSketchKind.Learned),
            ("mixed (J)", LearnedSketchKind.MixedJoint),
            ("mixed (S)", LearnedSketchKind.MixedSeparate),
        };
        var trained = new List<Sketch>();
        foreach (var (label, kind) in kinds)
        {
            var result = await TrainingRun.RunAsync(terminal, label, training, options with { Kind = kind }, cancellationToken);
            // The demo's table needs all three sketches, so Ctrl+C ends it (exit code 130) rather than showing a part.
            if (result.Cancelled)
                throw new OperationCanceledException(cancellationToken);
            trained.Add(result.Sketch);
        }
        var trainingTime = clock.Elapsed;

        var candidates = new (string Name, Sketch Sketch)[]
        {
            ("random CountSketch", Sketch.CountSketch(s.Rows, s.Height, s.Seed)),
            ("dense Gaussian", Sketch.Gaussian(s.Rows, s.Height, s.Seed)),
            ("learned", trained[0]),
            ("mixed (J)", trained[1]),
            ("mixed (S)", trained[2]),
        };
        var errors = candidates.Select(c => Scw.TestError(testing, c.Sketch, s.Rank, Normalization.TopSingularValue)).ToArray();
        var baseline = errors[0];

        var table = new Table()
            .AddColumn("sketch (m x n)")
            .AddColumn(new TableColumn("test error Err(Te, S)").RightAligned())
            .AddColumn(new TableColumn("gain over random").RightAligned());
        for (var i = 0; i < candidates.Length; i++)
            table.AddRow(
                Markup.Escape(candidates[i].Name),
                $"{errors[i]:0.000000}",
                i == 0 ? "1 (baseline)" : errors[i] > 0 ? $"{baseline / errors[i]:0.0}" : "-"
            );
        terminal.Console.Write(table);
        terminal.Console.WriteLine(
            "Err(Te, S) = mean ||A - SCW(S, A)||_F - mean ||A - [A]_k||_F over the test frames, each scaled to sigma_1 = 1; "
                + "0 is the optimum; gain = the random CountSketch's error / this one's. Mixed (J): m/2 learned rows trained together with m/2 fixed random ones; mixed (S): "
                + "m/2 learned rows, random rows appended after training; both keep the random sketch's worst-case "
                + $"guarantee. Training the three sketches took {trainingTime.TotalSeconds:0.0} s."
        );
        terminal.Console.WriteLine();
    }

    private static void Weighted(Terminal terminal, Settings s, CancellationToken cancellationToken)
    {
        const int n = 400,
            d = 200,
            weightRank = 2;
        var (a, w) = Synthetic.WeightedProblem(n, d, weightRank, s.Seed);
        terminal.Console.Write(new Rule("[bold]2. Weighted low-rank approximation[/] (Woodruff and Yasuda 2024)").LeftJustified());
        terminal.Console.WriteLine(
            $"A: {n} x {d}, a rank-{2 * s.Rank} signal plus noise; W: nonnegative weights of rank {weightRank} "
                + $"(row and column precisions). Rank k = {s.Rank}; svd_w keeps rank k of W o A at the same storage, or rank "
                + $"{weightRank} k = {weightRank * s.Rank} as the paper's bicriteria form, and divides by W."
        );
        var weights = Weights.FromMatrix(w);
        var runs = WeightedRuns.Run(a, weights, s.Rank, ["svd", "svd-w", "em", "em-w"], new WlraOptions(), cancellationToken);
        runs.AddRange(WeightedRuns.Run(a, weights, s.Rank, ["svd-w"], new WlraOptions { Bicriteria = true }, cancellationToken));
        WeightedRuns.Print(terminal, runs, (long)s.Rank * (n + d), (long)n * d);
        terminal.Console.WriteLine(
            "Loss: ||W o (A - A~)||_F (* marks the lowest at the budget of rank-k factors, k (n + d) numbers). Parameters: numbers "
                + "stored for A~. em: 25 iterations from [A]_k; em_w: em started from svd_w at r k, truncated to rank k; "
                + "svd-w (r k): the bicriteria form of Theorem 1.2, never worse than the best rank-k matrix, at r times the storage."
        );
    }
}
