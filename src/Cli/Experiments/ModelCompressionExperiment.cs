using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using LowRank.Onnx;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary>
/// <c>lowrank reproduce model-compression</c>: issue 23's measurements of real pretrained models, all-MiniLM-L6-v2 on
/// English text and (when its images are there) ResNet-18 on video frames, every method at every kept fraction: the
/// held-out fidelity of each compressed model to the original, as a table and a figure. Each finished row is appended
/// to results.csv at once, and a rerun with the same folder keeps the rows already there, so a cancelled run resumes
/// where it stopped.
/// </summary>
internal static class ModelCompressionExperiment
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private const string CsvHeader = "model,method,fraction,weights_before,weights_after,mean_cosine,cosine_5th_percentile,"
        + "neighbour_agreement,ms_per_input_original,ms_per_input_compressed,seconds";

    /// <summary>The methods by name: plain SVD and data-aware factors with the same fraction in every layer, and the
    /// library's default (sequential factors, sensitivity allocation, pivoted MatMuls).</summary>
    private static readonly (string Name, Func<double, IReadOnlyList<LayerKind>, ModelCompressionOptions> Options)[] Methods =
    [
        ("svd", (f, kinds) => new ModelCompressionOptions
            { ParameterFraction = f, Kinds = kinds, Method = CompressionMethod.Svd, Allocation = RankAllocation.Uniform }),
        ("data-aware", (f, kinds) => new ModelCompressionOptions
            { ParameterFraction = f, Kinds = kinds, Method = CompressionMethod.DataAware, Allocation = RankAllocation.Uniform }),
        ("default", (f, kinds) => new ModelCompressionOptions { ParameterFraction = f, Kinds = kinds }),
    ];

    /// <summary>One compressed model measured on held-out inputs.</summary>
    internal sealed record Row(
        string Model,
        string Method,
        double Fraction,
        long WeightsBefore,
        long WeightsAfter,
        double MeanCosine,
        double Cosine5thPercentile,
        double NeighbourAgreement,
        double MillisecondsOriginal,
        double MillisecondsCompressed,
        double Seconds)
    {
        public string ToCsv() => string.Join(",", Model, Method, Fraction.ToString("R", Invariant), WeightsBefore, WeightsAfter,
            MeanCosine.ToString("R", Invariant), Cosine5thPercentile.ToString("R", Invariant), NeighbourAgreement.ToString("R", Invariant),
            MillisecondsOriginal.ToString("R", Invariant), MillisecondsCompressed.ToString("R", Invariant), Seconds.ToString("R", Invariant));

        public static Row FromCsv(string line)
        {
            var f = line.Split(',');
            double D(int i) => double.Parse(f[i], Invariant);
            return new Row(f[0], f[1], D(2), long.Parse(f[3], Invariant), long.Parse(f[4], Invariant), D(5), D(6), D(7), D(8), D(9), D(10));
        }
    }

    /// <summary>A model of the experiment, with the layers its budget covers and its data.</summary>
    /// <param name="Methods">How many of <see cref="Methods"/> run on it, in order.</param>
    private sealed record Subject(string Name, string Model, IReadOnlyList<LayerKind> Kinds, CalibrationData Calibration, CalibrationData HeldOut,
        int Methods);

    public static Command Create(Terminal terminal)
    {
        var data = new Option<string>("--data")
        {
            Description = "The folder scripts/fetch-data.sh fills (models/, text/; images/ from scripts/resnet-images.fsx for ResNet-18).",
            DefaultValueFactory = _ => "data",
        };
        var output = new Option<string>("--out", "-o")
        {
            Description = "Folder for table.md, results.csv and fidelity.png/svg; rows already in its results.csv are kept (a rerun resumes).",
            DefaultValueFactory = _ => "results/model-compression",
        };
        var fractions = new Option<double[]>("--fractions")
        {
            Description = "Fractions of the budget layers' weights kept.",
            DefaultValueFactory = _ => [0.5, 0.75],
            AllowMultipleArgumentsPerToken = true,
        };
        var quick = new Option<bool>("--quick")
        {
            Description = "A small version: 100 calibration and 100 held-out inputs, 50 % only, svd and data-aware (minutes, not an hour).",
        };
        var command = new Command(
            "model-compression",
            "Compress all-MiniLM-L6-v2 (its 36 encoder MatMuls) and, when scripts/resnet-images.fsx has written its images, "
                + "ResNet-18 (its Conv layers) by plain SVD, data-aware factors and the default at each kept fraction, and "
                + "report each compressed model's fidelity to the original on held-out inputs."
        );
        Options.Add(command, data, output, fractions, quick);
        command.SetAction((parsed, cancellationToken) => RunAsync(terminal, parsed.GetRequiredValue(data), parsed.GetRequiredValue(output),
            parsed.GetValue(quick), parsed.GetValue(fractions) ?? [0.5, 0.75], cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(Terminal terminal, string data, string folder, bool quick, double[] fractions, CancellationToken cancellationToken)
    {
        foreach (var f in fractions)
            if (!(f > 0 && f <= 1))
                throw new ArgumentException($"Expected --fractions in (0, 1], but one is {f.ToString(Invariant)}.");
        var subjects = Subjects(data, quick, terminal);
        if (quick)
            fractions = [0.5];
        Directory.CreateDirectory(folder);
        var csv = Path.Combine(folder, "results.csv");
        var rows = File.Exists(csv) ? File.ReadLines(csv).Skip(1).Where(l => l.Length > 0).Select(Row.FromCsv).ToList() : [];
        if (!File.Exists(csv))
            File.WriteAllText(csv, CsvHeader + "\n");

        foreach (var subject in subjects)
            foreach (var fraction in fractions)
                foreach (var (method, options) in Methods.Take(quick ? 2 : subject.Methods))
                {
                    if (rows.Any(r => r.Model == subject.Name && r.Method == method && r.Fraction == fraction))
                    {
                        terminal.Console.WriteLine($"{subject.Name}, {method}, {fraction.ToString(Invariant)}: kept from {csv}.");
                        continue;
                    }
                    terminal.Console.WriteLine($"{subject.Name}, {method}, {fraction.ToString(Invariant)}: compressing...");
                    var row = await Measure(subject, method, fraction, options(fraction, subject.Kinds), folder, cancellationToken);
                    rows.Add(row);
                    File.AppendAllText(csv, row.ToCsv() + "\n");
                    terminal.Console.WriteLine($"  mean cosine {row.MeanCosine.ToString("0.0000", Invariant)}, {row.Seconds.ToString("0", Invariant)} s.");
                }

        File.WriteAllText(Path.Combine(folder, "table.md"), Markdown(rows));
        var series = rows.GroupBy(r => (r.Model, r.Method))
            .Select(g => ($"{g.Key.Model}, {g.Key.Method}", (IReadOnlyList<(double X, double Y)>)g.Select(r => (100 * r.Fraction, r.MeanCosine)).ToList()))
            .ToList();
        Chart.Save(Chart.Lines("Held-out mean cosine to the original model", "weights kept (%)", "mean cosine", series),
            folder, "fidelity");
        terminal.Console.WriteLine($"Wrote table.md, results.csv, fidelity.png and fidelity.svg to {folder}.");
        return 0;
    }

    /// <summary>The models whose files are in `data`: MiniLM always (its absence is an error naming the script), ResNet-18
    /// when its model and images are there.</summary>
    private static List<Subject> Subjects(string data, bool quick, Terminal terminal)
    {
        var minilm = Path.Combine(data, "models", "all-MiniLM-L6-v2.onnx");
        var vocabulary = Path.Combine(data, "models", "all-MiniLM-L6-v2.vocab.txt");
        var calibration = Path.Combine(data, "text", "calibration.txt");
        var heldOut = Path.Combine(data, "text", "heldout.txt");
        foreach (var file in new[] { minilm, vocabulary, calibration, heldOut })
            if (!File.Exists(file))
                throw new ArgumentException($"--data: '{file}' does not exist; run scripts/fetch-data.sh to fetch the model and the texts.");
        CalibrationData Limit(CalibrationData d) => quick && d.Count > 100 ? d.Slice(0, 100) : d;
        var subjects = new List<Subject>
        {
            new("all-MiniLM-L6-v2", minilm, [LayerKind.MatMul], Limit(CalibrationData.Text(File.ReadLines(calibration), vocabulary)),
                Limit(CalibrationData.Text(File.ReadLines(heldOut), vocabulary)), Methods.Length),
        };
        var resnet = Path.Combine(data, "models", "ResNet18.onnx");
        var images = Path.Combine(data, "images", "calibration.npy");
        var heldOutImages = Path.Combine(data, "images", "heldout.npy");
        if (File.Exists(resnet) && File.Exists(images) && File.Exists(heldOutImages))
            // svd and data-aware only: the sequential default runs both models once per group of its 22 Conv layers over
            // every image's patches, more than an hour here.
            subjects.Add(new("ResNet-18", resnet, [LayerKind.Conv], Limit(CalibrationData.Npy(images)), Limit(CalibrationData.Npy(heldOutImages)), 2));
        else
            terminal.Console.WriteLine($"ResNet-18 left out: it needs {resnet} and {images} (dotnet fsi scripts/resnet-images.fsx).");
        return subjects;
    }

    private static async Task<Row> Measure(Subject subject, string method, double fraction, ModelCompressionOptions options, string folder,
        CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await ModelCompression.CompressAsync(subject.Model, subject.Calibration, options, null, cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        var compressed = Path.Combine(folder, "compressed.onnx");
        result.Save(compressed);
        try
        {
            var fidelity = await Task.Run(() => ModelFidelity.Evaluate(OnnxSource.File(subject.Model), OnnxSource.File(compressed),
                subject.HeldOut, null, cancellationToken), cancellationToken);
            return new Row(subject.Name, method, fraction, result.ParametersBefore, result.ParametersAfter, fidelity.MeanCosine,
                fidelity.Cosine5thPercentile, fidelity.NeighbourAgreement, 1e3 * fidelity.SecondsPerInputOriginal,
                1e3 * fidelity.SecondsPerInputCompressed, seconds);
        }
        finally
        {
            File.Delete(compressed);
        }
    }

    internal static string Markdown(IEnumerable<Row> rows)
    {
        var table = new StringBuilder("| model | method | kept | weights | mean cosine | 5th percentile | nearest-neighbour agreement | ms per input (original -> compressed) | compression time (s) |\n"
            + "|---|---|---|---|---|---|---|---|---|\n");
        foreach (var r in rows.OrderBy(r => r.Model).ThenBy(r => r.Fraction).ThenBy(r => Array.FindIndex(Methods, m => m.Name == r.Method)))
            table.Append(Invariant, $"| {r.Model} | {r.Method} | {100 * r.Fraction:0} % | {r.WeightsAfter:N0} of {r.WeightsBefore:N0} | {r.MeanCosine:0.0000} | ")
                .Append(Invariant, $"{r.Cosine5thPercentile:0.0000} | {100 * r.NeighbourAgreement:0.0} % | {r.MillisecondsOriginal:0.0} -> {r.MillisecondsCompressed:0.0} | {r.Seconds:0} |\n");
        return table.ToString();
    }
}
