using System;
using System.CommandLine;
using System.Threading;
using System.Threading.Tasks;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary><c>lowrank train</c>: learns a sketch from a stack of matrices and writes it as a sketch file.</summary>
internal sealed class TrainCommand(Terminal terminal)
{
    private static readonly TrainingOptions Defaults = Training.Defaults(rank: 10, sketchRows: 20);

    private readonly Argument<string> data = new Argument<string>("data")
    {
        Description = "The training matrices: a 3-D .npy stack, a folder of .npy files, an IDX file or a video.",
    };

    private readonly Option<string?> select = Options.Select();

    private readonly Option<string> output = new Option<string>("--out", "-o")
    {
        Description = "The sketch file to write (the best sketch seen, also after Ctrl+C).",
        DefaultValueFactory = _ => "learned.sketch",
    };

    private readonly Option<int> rank = Options.Rank();

    private readonly Option<int> rows = new Option<int>("--rows", "-m") { Description = "Sketch rows m.", DefaultValueFactory = _ => 20 };

    private readonly Option<int> steps = new Option<int>("--steps")
    {
        Description = "Gradient steps.",
        DefaultValueFactory = _ => Defaults.Steps,
    };

    private readonly Option<double> rate = new Option<double>("--learning-rate", "--lr")
    {
        Description = "Initial learning rate.",
        DefaultValueFactory = _ => Defaults.LearningRate,
    };

    private readonly Option<int> batch = new Option<int>("--batch")
    {
        Description = "Matrices per step (a seeded shuffle).",
        DefaultValueFactory = _ => Defaults.BatchSize,
    };

    private readonly Option<string> optimizer = Options.Choice("--optimizer", "Adam, or SGD with step decay.", "adam", "adam", "sgd");

    private readonly Option<string> loss = Options.Choice(
        "--loss",
        "Training loss: Frobenius, V-norm (sum of row norms), or weighted Frobenius (needs --loss-weights).",
        "frobenius",
        "frobenius",
        "vnorm",
        "weighted"
    );

    private readonly Option<string?> lossWeights = new Option<string?>("--loss-weights")
    {
        Description = "A 2-D .npy file of nonnegative weights (n x d) for --loss weighted.",
    };

    private readonly Option<string> kind = Options.Choice(
        "--kind",
        "learned: all m rows trained; mixed-j: m/2 rows trained together with m - m/2 fixed random rows; mixed-s: "
            + "m/2 rows trained, random rows appended afterwards (mixed kinds keep the random sketch's worst-case "
            + "guarantee).",
        "learned",
        "learned",
        "mixed-j",
        "mixed-s"
    );

    private readonly Option<string> svd = Options.Choice(
        "--svd",
        "Differentiable SVD: the exact adjoint, or the paper's power method.",
        "exact",
        "exact",
        "power"
    );

    private readonly Option<int> powerIterations = new Option<int>("--power-iterations")
    {
        Description = "Iterations of --svd power.",
        DefaultValueFactory = _ => 10,
    };

    private readonly Option<string> positions = Options.Choice(
        "--positions",
        "principal: start from the training matrices' top singular directions (learned positions, then values); "
            + "greedy: from there, move each column's nonzero to the best row (needs --nonzeros 1); "
            + "random: the 2019 method's random positions, values trained from random signs.",
        "principal",
        "principal",
        "greedy",
        "random"
    );

    private readonly Option<int> greedyMatrices = new Option<int>("--greedy-matrices")
    {
        Description = "Training matrices (evenly spaced) the greedy search scores its trials on.",
        DefaultValueFactory = _ => Defaults.GreedyMatrices,
    };

    private readonly Option<int> nonzeros = new Option<int>("--nonzeros", "-s")
    {
        Description = "Nonzeros per column of the trained rows (1: a CountSketch; 0: all rows, a dense block).",
        DefaultValueFactory = _ => Defaults.NonzerosPerColumn,
    };

    private readonly Option<int> principalMatrices = new Option<int>("--principal-matrices")
    {
        Description = "Training matrices (evenly spaced) the principal start is computed from; 0: all. With "
            + "--steps 0 this gives a few-shot sketch.",
        DefaultValueFactory = _ => Defaults.PrincipalMatrices,
    };

    private readonly Option<string> normalize = Options.Normalize();

    private readonly Option<int> seed = Options.Seed("the initial random sketch and the batch order");

    private readonly Option<string?> checkpoint = new Option<string?>("--checkpoint")
    {
        Description = "Write a checkpoint here every --checkpoint-every steps and on Ctrl+C.",
    };

    private readonly Option<int> checkpointEvery = new Option<int>("--checkpoint-every")
    {
        Description = "Steps between checkpoints.",
        DefaultValueFactory = _ => Defaults.CheckpointEvery,
    };

    private readonly Option<string?> resume = new Option<string?>("--resume")
    {
        Description = "Continue from this checkpoint (written with the same options); the result equals an "
            + "uninterrupted run.",
    };

    private readonly Option<double> validation = new Option<double>("--validation")
    {
        Description = "Fraction of the matrices held out (evenly spaced) to choose the sketch that is written: the one "
            + "with the lowest validation error. 0 chooses by the batch loss.",
        DefaultValueFactory = _ => Defaults.ValidationFraction,
    };

    private readonly Option<int> validationEvery = new Option<int>("--validation-every")
    {
        Description = "Steps between validations (0: every Steps/25).",
        DefaultValueFactory = _ => Defaults.ValidationEvery,
    };

    private readonly Option<string?> final = new Option<string?>("--final")
    {
        Description = "Also write the sketch after the last step to this file.",
    };

    private readonly Option<string?> history = new Option<string?>("--history")
    {
        Description = "Write every step's batch loss, validation error (when measured), rate and time to this CSV file.",
    };

    public static Command Create(Terminal terminal) => new TrainCommand(terminal).Build();

    private Command Build()
    {
    var command = new Command(
        "train",
        "Learn a sketch S from training matrices by gradient descent through SCW (Indyk, Vakilian and Yuan 2019), and "
            + "write it as a sketch file. Ctrl+C stops after the current step and still writes the best sketch."
    );
    Options.Add(
        command,
        data,
        select,
        output,
        rank,
        rows,
        steps,
        rate,
        batch,
        optimizer,
        loss,
        lossWeights,
        kind,
        svd,
        powerIterations,
        positions,
        nonzeros,
        principalMatrices,
        greedyMatrices,
        normalize,
        seed,
        checkpoint,
        checkpointEvery,
        resume,
        validation,
        validationEvery,
        final,
        history
    );

        command.SetAction(RunAsync);
        return command;
    }

    private async Task<int> RunAsync(ParseResult parsed, CancellationToken cancellationToken)
    {
        // Everything that can be checked before the data is read and the work is done.
        var path = parsed.GetRequiredValue(output);
        Inputs.RequireFolderOf(path, "--out");
        if (parsed.GetValue(checkpoint) is { } checkpointPath)
            Inputs.RequireFolderOf(checkpointPath, "--checkpoint");
        var finalPath = parsed.GetValue(final);
        if (finalPath is not null)
            Inputs.RequireFolderOf(finalPath, "--final");
        var historyPath = parsed.GetValue(history);
        if (historyPath is not null)
            Inputs.RequireFolderOf(historyPath, "--history");
        if (parsed.GetValue(rank) < 1)
            throw new ArgumentException($"--rank: expected k >= 1, but it is {parsed.GetValue(rank)}.");
        if (parsed.GetValue(rows) < parsed.GetValue(rank))
            throw new ArgumentException(
                $"--rows: expected at least --rank = {parsed.GetValue(rank)} sketch rows, but it is {parsed.GetValue(rows)}.");
        if (parsed.GetValue(steps) < 0)
            throw new ArgumentException($"--steps: expected at least 0, but it is {parsed.GetValue(steps)}.");
        if (parsed.GetValue(nonzeros) < 0)
            throw new ArgumentException($"--nonzeros: expected at least 0 (0: all rows), but it is {parsed.GetValue(nonzeros)}.");
        if (parsed.GetValue(principalMatrices) < 0)
            throw new ArgumentException(
                $"--principal-matrices: expected at least 0 (0: all), but it is {parsed.GetValue(principalMatrices)}.");
        if (parsed.GetValue(batch) < 1)
            throw new ArgumentException($"--batch: expected at least 1, but it is {parsed.GetValue(batch)}.");

        var dataPath = parsed.GetRequiredValue(data);
        var matrices = Inputs.ReadTrainingStack(dataPath, parsed.GetValue(select), "data");
        var lossWord = parsed.GetRequiredValue(loss);
        var weightsPath = parsed.GetValue(lossWeights);
        if (lossWord == "weighted" && weightsPath is null)
            throw new ArgumentException("--loss weighted needs --loss-weights <file.npy> (an n x d matrix of weights).");
        if (lossWord != "weighted" && weightsPath is not null)
            throw new ArgumentException($"--loss-weights is only used with --loss weighted, but --loss is '{lossWord}'.");

        var options = OptionsOf(parsed, lossWord, weightsPath);

        var (n, d) = matrices is MatrixStack stack ? (stack.Rows, stack.Columns) : (matrices[0].RowCount, matrices[0].ColumnCount);
        terminal.Console.WriteLine(
            $"Training a {options.SketchRows} x {n} sketch ({parsed.GetRequiredValue(kind)}, {parsed.GetRequiredValue(positions)} "
                + $"positions, {(options.NonzerosPerColumn == 0 ? "dense" : $"{options.NonzerosPerColumn} per column")}) at rank {options.Rank} on "
                + $"{matrices.Count} matrices of {n} x {d} from {dataPath}."
        );
        var reports = new System.Collections.Generic.List<TrainingProgress>();
        var result = await TrainingRun.RunAsync(terminal, "train", matrices, options, cancellationToken, reports.Add);
        if (!Mpi.Writes)
            return result.Cancelled ? App.Interrupted : 0; // rank 0 writes and reports
        if (historyPath is not null)
            WriteHistory(historyPath, reports);
        if (result.Cancelled && !double.IsFinite(result.BestLoss))
        {
            // Interrupted before any step was scored: there is nothing better than the random start, and an
            // existing file at --out may hold a trained sketch.
            terminal.Console.WriteLine($"Interrupted before the first step; {path} was not written.");
            return App.Interrupted;
        }
        SketchFile.Save(path, result.Sketch);
        if (finalPath is not null)
            SketchFile.Save(finalPath, result.Final);

        terminal.Console.Write(Tables.Facts(Facts(result, options, matrices.Count, path, finalPath)));

        if (!result.Cancelled)
            return 0;
        terminal.Console.WriteLine(
            $"Interrupted at step {result.StepsCompleted}; the best sketch so far is in {path}."
                + (options.CheckpointPath is null ? "" : $" Resume with --resume {options.CheckpointPath}.")
        );
        return App.Interrupted;
    }

    /// <summary>The training options the command line asks for.</summary>
    private TrainingOptions OptionsOf(ParseResult parsed, string lossWord, string? weightsPath) =>
        new()
        {
            Rank = parsed.GetValue(rank),
            SketchRows = parsed.GetValue(rows),
            Steps = parsed.GetValue(steps),
            LearningRate = parsed.GetValue(rate),
            BatchSize = parsed.GetValue(batch),
            Optimizer = parsed.GetRequiredValue(optimizer) == "sgd" ? Optimizer.Sgd : Optimizer.Adam,
            Loss = lossWord switch
            {
                "vnorm" => TrainingLoss.VNorm,
                "weighted" => TrainingLoss.WeightedFrobenius,
                _ => TrainingLoss.Frobenius,
            },
            LossWeights = weightsPath is null ? null : Inputs.ReadMatrix(weightsPath, "--loss-weights"),
            Kind = KindOf(parsed.GetRequiredValue(kind)),
            Svd = parsed.GetRequiredValue(svd) == "power" ? SvdMethod.PowerMethod : SvdMethod.Exact,
            PowerIterations = parsed.GetValue(powerIterations),
            Normalization = Options.NormalizationOf(parsed.GetRequiredValue(normalize)),
            Seed = parsed.GetValue(seed),
            CheckpointPath = parsed.GetValue(checkpoint),
            CheckpointEvery = parsed.GetValue(checkpointEvery),
            ResumeFrom = parsed.GetValue(resume),
            ValidationFraction = parsed.GetValue(validation),
            ValidationEvery = parsed.GetValue(validationEvery),
            Positions = parsed.GetRequiredValue(positions) switch
            {
                "random" => SketchPositions.Random,
                "greedy" => SketchPositions.Greedy,
                _ => SketchPositions.Principal,
            },
            GreedyMatrices = parsed.GetValue(greedyMatrices),
            NonzerosPerColumn = parsed.GetValue(nonzeros),
            PrincipalMatrices = parsed.GetValue(principalMatrices),
        };

    /// <summary>What the run did, for the summary table.</summary>
    private static (string, string)[] Facts(TrainingResult result, TrainingOptions options, int matrices, string path, string? finalPath)
    {
        var facts = new System.Collections.Generic.List<(string, string)>
        {
            ("steps", $"{result.StepsCompleted} of {options.Steps}"),
            ("first step's loss", result.LossHistory.Count > 0 ? $"{result.LossHistory[0]:0.000000}" : "-"),
        };
        if (result.ValidationMatrices > 0)
        {
            facts.Add(("validation matrices", $"{result.ValidationMatrices} held out of {matrices}"));
            facts.Add(("validation error, written sketch", $"{result.ValidationError:0.000000}"));
            facts.Add(("validation error, final sketch", $"{result.FinalValidationError:0.000000}"));
        }
        else
        {
            facts.Add(("best training loss", $"{result.BestLoss:0.000000}"));
        }
        facts.Add(("rejected steps", $"{result.RejectedSteps}"));
        facts.Add(("sketch", $"{result.Sketch.Rows} x {result.Sketch.Columns}, written to {path}"));
        if (finalPath is not null)
            facts.Add(("final sketch", $"written to {finalPath}"));
        return [.. facts];
    }

    /// <summary>One CSV line per step: step, the batch loss (empty for a rejected step), the validation error (empty when
    /// none was measured), the rate after the step and the seconds since training started.</summary>
    private static void WriteHistory(string path, System.Collections.Generic.IEnumerable<TrainingProgress> steps)
    {
        static string Number(double value) =>
            double.IsFinite(value) ? value.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "";
        using var writer = new System.IO.StreamWriter(path);
        writer.WriteLine("step,loss,validation_error,learning_rate,elapsed_seconds");
        foreach (var p in steps)
            writer.WriteLine(
                $"{p.Step},{Number(p.Loss)},{Number(p.ValidationError)},{Number(p.LearningRate)},{Number(p.Elapsed.TotalSeconds)}");
    }

    public static LearnedSketchKind KindOf(string word) =>
        word switch
        {
            "mixed-j" => LearnedSketchKind.MixedJoint,
            "mixed-s" => LearnedSketchKind.MixedSeparate,
            _ => LearnedSketchKind.Learned,
        };
}
