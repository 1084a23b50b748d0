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
/// <c>lowrank reproduce worst-case</c>: Theorem 1 of Indyk, Vakilian and Yuan (2019) on real frames. A learned sketch
/// can fail on a matrix unlike its training set: here, matrices whose columns are orthogonal to the learned rows' row
/// space but for a decoy 1000x weaker inside it, so S A sees only the decoy and SCW misses the matrix. A mixed sketch [learned; random] spans at least the random rows' row space, so
/// its SCW error is at most theirs on every matrix; the experiment shows both, as numbers and a figure.
/// </summary>
internal static class WorstCaseExperiment
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Command Create(Terminal terminal)
    {
        var data = Options.VideoFrames();
        var train = Options.Frames("--train", "Training", "0:600:5");
        var test = Options.Frames("--test", "Ordinary test", "600::5");
        var rank = Options.Rank();
        var rows = new Option<int>("--rows", "-m") { Description = "Sketch rows m (the mixed kinds train m/2).", DefaultValueFactory = _ => 40 };
        var output = new Option<string>("--out", "-o") { Description = "Folder for table.md, results.csv and worst-case.svg.", DefaultValueFactory = _ => "results/worst-case" };
        var seed = Options.Seed("the adversarial matrices");
        var command = new Command(
            "worst-case",
            "Theorem 1 (Indyk, Vakilian and Yuan 2019): matrices orthogonal to a learned sketch's row space defeat it; mixed "
                + "sketches keep their random rows' error."
        );
        Options.Add(command, data, train, test, rank, rows, output, seed);
        command.SetAction(
            async (parsed, cancellationToken) =>
            {
                var path = parsed.GetRequiredValue(data);
                var training = Inputs.ReadTrainingStack(path, parsed.GetRequiredValue(train), "--train");
                var testing = Inputs.ReadStack(path, parsed.GetRequiredValue(test), "--test");
                int k = parsed.GetValue(rank), m = parsed.GetValue(rows);
                if (m / 2 < k)
                    throw new ArgumentException($"--rows: the mixed sketches train m/2 rows, at least --rank = {k}; m = {m} is too small.");
                var folder = parsed.GetRequiredValue(output);
                Directory.CreateDirectory(folder);
                int n = testing[0].RowCount, d = testing[0].ColumnCount;

                var sketches = new List<(string Name, Sketch Sketch)> { ("random CountSketch", Sketch.CountSketch(m, n, 1)) };
                foreach (var (name, kind) in new[]
                         {
                             ("learned (default)", LearnedSketchKind.Learned), ("mixed (J)", LearnedSketchKind.MixedJoint),
                             ("mixed (S)", LearnedSketchKind.MixedSeparate),
                         })
                {
                    var trained = await TrainingRun.RunAsync(terminal, name, training, Training.Defaults(k, m) with { Kind = kind }, cancellationToken);
                    cancellationToken.ThrowIfCancellationRequested();
                    sketches.Add((name, trained.Sketch));
                }
                // Theorem 1 compares a mixed sketch with its own random rows (its last m - m/2 rows, kept as drawn).
                var mixedRows = sketches[2].Sketch.Apply(Matrix<double>.Build.DenseIdentity(n));
                sketches.Add(("random rows of mixed (J) alone", Sketch.FromMatrix(mixedRows.SubMatrix(m / 2, m - m / 2, 0, n))));

                // Matrices orthogonal to the learned sketch's row space, plus a faint decoy inside it (Synthetic.hiddenFrom).
                var learned = sketches[1].Sketch.Apply(Matrix<double>.Build.DenseIdentity(n));
                double[] noises = [0.01, 0.03, 0.1, 0.3];
                var hidden = Synthetic.HiddenFrom(learned, k, d, noises, 5, parsed.GetValue(seed));
                var adversarial = noises.Select((noise, i) => (Noise: noise, Matrices: hidden[i])).ToArray();

                // Mean ||A - SCW(S, A)||_F / ||A||_F, and the optimum ||A - [A]_k||_F / ||A||_F.
                static double Relative(Matrix<double>[] set, Func<Matrix<double>, double> error) =>
                    set.Average(a => error(a) / Norm.Frobenius(a));
                var table = new StringBuilder();
                table.AppendLine("| sketch | Err(Te, S) on ordinary test frames | " + string.Join(" | ", noises.Select(x => $"adversarial, noise {x.ToString(Invariant)}")) + " |");
                table.AppendLine("|---|---|" + string.Concat(noises.Select(_ => "---|")));
                var ordinary = Scw.TestErrors(testing, sketches.Select(s => s.Sketch), k, Normalization.TopSingularValue);
                var csv = new StringBuilder("sketch,ordinary_test_error," + string.Join(",", noises.Select(x => $"relative_error_noise_{x.ToString(Invariant)}")) + "\n");
                var series = new List<(string Name, IReadOnlyList<(double X, double Y)> Points)>();
                var optimum = adversarial.Select(g => Relative(g.Matrices, a => Svd.OptimalError(a, k))).ToArray();
                for (var s = 0; s < sketches.Count; s++)
                {
                    var sketch = sketches[s].Sketch;
                    var relative = adversarial.Select(g => Relative(g.Matrices, a => Scw.Error(a, sketch, k))).ToArray();
                    table.AppendLine($"| {sketches[s].Name} | {ordinary[s].ToString("0.000000", Invariant)} | "
                        + string.Join(" | ", relative.Select(x => x.ToString("0.0000", Invariant))) + " |");
                    csv.AppendLine($"{sketches[s].Name},{ordinary[s].ToString("R", Invariant)}," + string.Join(",", relative.Select(x => x.ToString("R", Invariant))));
                    series.Add((sketches[s].Name, noises.Select((x, i) => (x, relative[i])).ToList()));
                }
                table.AppendLine("| optimum [A]_k | 0 | " + string.Join(" | ", optimum.Select(x => x.ToString("0.0000", Invariant))) + " |");
                series.Add(("optimum [A]_k", noises.Select((x, i) => (x, optimum[i])).ToList()));

                File.WriteAllText(Path.Combine(folder, "table.md"),
                    $"k = {k}, m = {m}; adversarial columns: mean ||A - SCW(S, A)||_F / ||A||_F over 5 matrices per noise level.\n\n" + table);
                File.WriteAllText(Path.Combine(folder, "results.csv"), csv.ToString());
                Chart.Save(Chart.Lines(
                    "Matrices orthogonal to the learned rows: relative SCW error", "noise level (log scale)", "||A - SCW(S, A)||_F / ||A||_F (log scale)",
                    series, logX: true, logY: true), folder, "worst-case");
                terminal.Console.WriteLine(table.ToString());
                terminal.Console.WriteLine($"Wrote table.md, results.csv, worst-case.png and worst-case.svg to {folder}.");
                return 0;
            }
        );
        return command;
    }
}
