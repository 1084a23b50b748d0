using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using LowRank.Cli;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>The `reproduce` experiments on small generated data and the figures they draw: each tabulates what the
/// facade computes directly, and every figure the docs publish decodes to visible pixels.</summary>
public class ReproduceTests : ScratchDirectory
{
    private static Task<CliRun> Lowrank(params string[] args) => CliRun.Lowrank(args);

    private static string Invariant(double value) => CliRun.Invariant(value);

    private string WriteStack(string name, int count, int rows, int columns, int seed) => CliRun.WriteStack(Scratch(name), count, rows, columns, seed);

    /// <summary>Writes an IDX file (uint8, gzip) as the Fashion-MNIST files are.</summary>
    private static void WriteIdx(string path, byte[] data, params int[] dimensions)
    {
        using var file = File.Create(path);
        using var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest);
        gzip.Write([0, 0, 0x08, (byte)dimensions.Length]);
        foreach (var dimension in dimensions)
            gzip.Write([(byte)(dimension >> 24), (byte)(dimension >> 16), (byte)(dimension >> 8), (byte)dimension]);
        gzip.Write(data);
    }

    [Fact]
    public async Task ReproduceFisherMlp_Quick_WritesEveryMethodsRow()
    {
        // Generated images whose label is the brightest of ten pixel bands, so the network has something to learn.
        var random = new Random(3);
        var folder = Scratch("fashion");
        Directory.CreateDirectory(folder);
        foreach (var (set, count) in new[] { ("train", 400), ("t10k", 100) })
        {
            var images = new byte[count * 784];
            var labels = new byte[count];
            for (var i = 0; i < count; i++)
            {
                labels[i] = (byte)random.Next(10);
                for (var p = 0; p < 784; p++)
                    images[i * 784 + p] = (byte)(p % 10 == labels[i] ? 200 + random.Next(56) : random.Next(100));
            }
            WriteIdx(Path.Combine(folder, $"{set}-images-idx3-ubyte.gz"), images, count, 28, 28);
            WriteIdx(Path.Combine(folder, $"{set}-labels-idx1-ubyte.gz"), labels, count);
        }

        var run = await Lowrank("reproduce", "fisher-mlp", "--data", folder, "--out", Scratch("out"), "--quick");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var csv = File.ReadAllLines(Path.Combine(Scratch("out"), "results.csv"));
        var methods = csv.Skip(1).Select(line => line.Split(',')[1]).ToArray();
        Assert.Equal(
            new[] { "full layer" }.Concat(WeightedRuns.Methods.Keys).Concat(new[] { "data-aware", "data-and-weights", "two-sided" }),
            methods);
        Assert.True(File.Exists(Path.Combine(Scratch("out"), "table.md")));
        var figure = System.Xml.Linq.XDocument.Load(Path.Combine(Scratch("out"), "accuracy.svg"));
        Assert.Equal("svg", figure.Root!.Name.LocalName);
        // The six methods of the legend, each a text element of the SVG; and the same chart as a PNG.
        var texts = figure.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim()).ToHashSet();
        Assert.Subset(texts, new HashSet<string> { "svd", "svd-w", "em", "als", "data-aware", "two-sided", "full network" });
        var (width, height, _) = DecodePng(Path.Combine(Scratch("out"), "accuracy.png"));
        Assert.Equal((Chart.Width, Chart.Height), (width, height));
        var full = double.Parse(csv[1].Split(',')[6], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(full > 0.5, $"the network learned nothing: accuracy {full}");
    }

    [Fact]
    public async Task ReproduceLearnedSketches_TabulatesEverySketch_WithTheFacadesErrors()
    {
        var data = WriteStack("frames.npy", 30, 24, 20, 5);

        var run = await Lowrank("reproduce", "learned-sketches", data, "--train", "0:20", "--test", "20:", "--ranks", "2",
            "--rows", "6", "8", "--steps", "5", "--out", Scratch("out"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = File.ReadAllLines(Path.Combine(Scratch("out"), "results.csv")).Skip(1).Select(line => line.Split(','))
            .Where(row => row[1] == "6").ToArray();
        Assert.Equal(
            new[]
            {
                "random CountSketch", "dense Gaussian", "learned values (2019)", "learned positions + values (s = 1)",
                "learned positions + values (s = 4)", "greedy positions + values (s = 1)", "few-shot: principal start from 1 matrix",
                "few-shot: principal start from 32 matrices", "default: principal start + values", "mixed (J) with default options",
                "mixed (S) with default options", "mixed (J) with 2019 options",
            },
            rows.Select(r => r[2]));
        var test = Npy.ReadStack(data)[20..];
        var random = Scw.TestError(test, Sketch.CountSketch(6, 24, 1), 2, Normalization.TopSingularValue);
        Assert.Equal(random, double.Parse(rows[0][3], System.Globalization.CultureInfo.InvariantCulture));

        // The figures: four 24 x 20 panels with 8-pixel gaps, and a chart with its title.
        var (width, height, pixels) = DecodePng(Path.Combine(Scratch("out"), "reconstruction-k2-m6.png"));
        Assert.Equal((4 * 20 + 3 * 8, 24), (width, height));
        Assert.True(pixels.Distinct().Count() > 16, "the reconstruction has more than 16 gray levels");
        Assert.Contains("Training loss", File.ReadAllText(Path.Combine(Scratch("out"), "training.svg")));
        // Two values of m: Err against m, with the compared sketches in its legend.
        Assert.Contains("default: principal start + values", File.ReadAllText(Path.Combine(Scratch("out"), "error-vs-rows-k2.svg")));
        Assert.True(File.Exists(Path.Combine(Scratch("out"), "error-vs-rows-k2.png")));
        Assert.Contains("exact SVD, best rank k", File.ReadAllText(Path.Combine(Scratch("out"), "table.md")));
    }

    [Fact]
    public void EveryPngFigureOfTheDocs_DecodesToAFramesWorthOfNonBlankPixels()
    {
        var figures = Directory.GetFiles(RepositoryFiles.PathOf(Path.Combine("docs", "figures")), "*.png");
        Assert.NotEmpty(figures);
        foreach (var figure in figures)
        {
            var (width, height, pixels) = DecodePng(figure);
            // The reconstruction figure is four 576 x 768 panels with 8-pixel gaps; every other one is a chart.
            var expected = Path.GetFileName(figure).Contains("reconstruction", StringComparison.Ordinal)
                ? (4 * 768 + 3 * 8, 576)
                : (Chart.Width, Chart.Height);
            Assert.True(expected == (width, height), $"{figure} is {width} x {height}, not {expected}");
            Assert.True(pixels.Distinct().Count() > 16, $"{figure} has at most 16 gray levels");
            Assert.True(pixels.Count(p => p < 128) > width * height / 1000, $"{figure} is nearly blank");
        }
    }

    /// <summary>An independent PNG reader (ISO/IEC 15948) for 8-bit, non-interlaced grayscale, RGB or RGBA images, as
    /// GrayPng and ScottPlot write them: checks the signature and every chunk's CRC-32 (with the tests' own bitwise
    /// Crc32, not System.IO.Hashing, which GrayPng uses), inflates the IDAT data, undoes the five row filters, and returns each pixel's
    /// luminance (the mean of R, G and B; alpha is ignored).</summary>
    internal static (int Width, int Height, byte[] Pixels) DecodePng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        int width = 0, height = 0, channels = 0;
        var idat = new MemoryStream();
        for (var at = 8; at < bytes.Length;)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            var body = bytes.AsSpan(at + 8, length);
            Assert.Equal(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at + 8 + length)), Crc32.Of(bytes.AsSpan(at + 4, length + 4)));
            if (type == "IHDR")
            {
                width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(body);
                height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                Assert.Equal(8, body[8]); // bit depth
                channels = body[9] switch
                {
                    0 => 1,
                    2 => 3,
                    6 => 4,
                    var other => throw new Xunit.Sdk.XunitException($"{path}: color type {other} is not read here"),
                };
                Assert.Equal(0, body[12]); // not interlaced
            }
            else if (type == "IDAT")
                idat.Write(body);
            at += 12 + length;
        }
        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(idat, System.IO.Compression.CompressionMode.Decompress))
            zlib.CopyTo(inflated);
        var raw = inflated.ToArray();
        var stride = width * channels;
        Assert.Equal(height * (stride + 1), raw.Length);
        var rows = new byte[height * stride];
        for (var i = 0; i < height; i++)
        {
            var filter = raw[i * (stride + 1)];
            for (var j = 0; j < stride; j++)
            {
                int x = raw[i * (stride + 1) + 1 + j];
                int a = j >= channels ? rows[i * stride + j - channels] : 0;
                int b = i > 0 ? rows[(i - 1) * stride + j] : 0;
                int c = i > 0 && j >= channels ? rows[(i - 1) * stride + j - channels] : 0;
                int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                var predicted = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => pa <= pb && pa <= pc ? a : pb <= pc ? b : c,
                    _ => throw new Xunit.Sdk.XunitException($"{path}: row {i} has filter type {filter}"),
                };
                rows[i * stride + j] = (byte)(x + predicted);
            }
        }
        var pixels = new byte[width * height];
        for (var p = 0; p < pixels.Length; p++)
            pixels[p] = channels == 1 ? rows[p] : (byte)((rows[p * channels] + rows[p * channels + 1] + rows[p * channels + 2]) / 3);
        return (width, height, pixels);
    }

    [Fact]
    public void ChartLabels_LeaveInk_SoAMissingFontCannotBlankThem()
    {
        // Without a TrueType font SkiaSharp draws no text and reports nothing; two charts that differ only in their
        // title must then differ in the title's band, and the band must hold dark pixels.
        var series = new List<(string, IReadOnlyList<(double X, double Y)>)> { ("series", new[] { (1.0, 1.0), (2.0, 3.0) }) };
        var titled = Chart.Save(Chart.Lines("Reproducible title", "x", "y", series), Scratch(""), "titled").Png;
        var plain = Chart.Save(Chart.Lines("", "x", "y", series), Scratch(""), "plain").Png;

        var (width, height, ink) = DecodePng(titled);
        var (_, _, blank) = DecodePng(plain);

        Assert.Equal((Chart.Width, Chart.Height), (width, height));
        var band = Enumerable.Range(0, 30 * width);
        Assert.True(band.Count(p => ink[p] < 128) > 100, "the title drew fewer than 100 dark pixels: is a TrueType font installed (fonts-dejavu-core)?");
        Assert.True(band.Count(p => ink[p] != blank[p]) > 100);
    }

    [Fact]
    public void Charts_UseTheFontTheToolCarries_NotOnlyAnInstalledOne()
    {
        // The tool embeds DejaVu Sans and registers it before its first chart (on a machine with no font installed,
        // moving /usr/share/fonts away blanked every label before and leaves them now: a manual check, recorded in
        // EXPERIMENTS.md's introduction).
        using var carried = typeof(Chart).Assembly.GetManifestResourceStream("DejaVuSans.ttf");
        Assert.NotNull(carried);
        using var copy = new MemoryStream();
        carried!.CopyTo(copy);
        Assert.Equal(File.ReadAllBytes(RepositoryFiles.PathOf("src/Cli/Experiments/Fonts/DejaVuSans.ttf")), copy.ToArray());
        Assert.Equal(new byte[] { 0, 1, 0, 0 }, copy.ToArray()[..4]); // a TrueType font

        Chart.Lines("title", "x", "y", []);
        var registered = ScottPlot.Fonts.GetTypeface("DejaVu Sans", false, false);
        Assert.Equal("DejaVu Sans", registered.FamilyName);
        Assert.NotEmpty(Directory.GetFiles(Path.GetTempPath(), "lowrank-DejaVuSans-*.ttf"));
    }

    [Fact]
    public async Task ReproduceTrainingChoices_TabulatesEveryLossAndSvdMethod()
    {
        var data = WriteStack("frames.npy", 30, 24, 20, 6);

        var run = await Lowrank("reproduce", "training-choices", data, "--train", "0:20", "--test", "20:", "--ranks", "2",
            "--steps", "3", "--power-steps", "2", "--out", Scratch("choices"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = File.ReadAllLines(Path.Combine(Scratch("choices"), "results.csv")).Skip(1).ToArray();
        Assert.Equal(
            new[]
            {
                "random CountSketch (no training)", "Frobenius loss, 3 steps", "V-norm loss, 3 steps",
                "weighted Frobenius loss, 3 steps", "exact SVD adjoint, 2 steps", "power method, T = 10, 2 steps",
                "power method, T = 100, 2 steps",
            },
            rows.Select(r => r.Split('"')[1]));
        // The random sketch's Err is the facade's.
        var test = Npy.ReadStack(data)[20..];
        var random = Scw.TestError(test, Sketch.CountSketch(4, 24, 1), 2, Normalization.TopSingularValue);
        Assert.Equal(random.ToString("0.000000", System.Globalization.CultureInfo.InvariantCulture), rows[0].Split('"')[2].Split(',')[1]);
    }

    [Fact]
    public async Task ReproduceWorstCase_TheLearnedSketchFails_AndTheMixedOneKeepsItsRandomRowsError()
    {
        // Wide frames, so that the learned sketch's 6 directions of the 60 columns cannot catch much by chance.
        var data = WriteStack("frames.npy", 30, 48, 60, 7);

        var run = await Lowrank("reproduce", "worst-case", data, "--train", "0:20", "--test", "20:", "-k", "2", "-m", "6",
            "--out", Scratch("worst"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = File.ReadAllLines(Path.Combine(Scratch("worst"), "results.csv")).Skip(1)
            .Select(line => line.Split(','))
            .ToDictionary(r => r[0], r => r[2..].Select(x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        // The learned sketch sees only the decoy: SCW misses almost all of the matrix.
        Assert.All(rows["learned (default)"], e => Assert.True(e > 0.9, $"learned relative error {e}"));
        // Theorem 1: never worse than the mixed sketch's own random rows, and here far better than the learned one.
        for (var i = 0; i < rows["mixed (J)"].Length; i++)
        {
            Assert.True(rows["mixed (J)"][i] <= rows["random rows of mixed (J) alone"][i] + 1e-9, $"noise level {i}");
            Assert.True(rows["mixed (J)"][i] < rows["learned (default)"][i] - 0.1, $"noise level {i}");
        }
        Assert.True(File.Exists(Path.Combine(Scratch("worst"), "worst-case.svg")));
        Assert.True(File.Exists(Path.Combine(Scratch("worst"), "worst-case.png")));
    }

    [Fact]
    public async Task ReproduceWeightedSynthetic_TabulatesEveryMethod_AndSvdWIsLowestAtEveryRank()
    {
        var run = await Lowrank("reproduce", "weighted-synthetic", "--ranks", "3", "6", "--out", Scratch("weighted"));

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = File.ReadAllLines(Path.Combine(Scratch("weighted"), "results.csv")).Skip(1).Select(line => line.Split(',')).ToArray();
        Assert.Equal(2 * 10, rows.Length);
        foreach (var k in new[] { 3, 6 })
        {
            var atK = rows.Where(r => r[0] == $"{k}").ToDictionary(r => r[1]);
            double Loss(string method) => double.Parse(atK[method][2], System.Globalization.CultureInfo.InvariantCulture);
            // Equal budgets: every method stores at most the k (n + d) numbers of rank-k factors of the 400 x 200 problem.
            Assert.All(atK.Where(p => p.Key != "svd-w (r k)"), p => Assert.True(int.Parse(p.Value[4]) <= k * 600, p.Key + ": " + p.Value[4]));
            // The bicriteria form stores rank r k = 2k and, with rank-2 weights, beats every rank-k method (Theorem 1.2).
            Assert.Equal($"{2 * k * 600}", atK["svd-w (r k)"][4]);
            Assert.All(atK.Keys.Where(m => m is not ("svd-w (r k)" or "svd-w" or "svd-w-practical" or "sample")),
                m => Assert.True(Loss("svd-w (r k)") <= Loss(m) * (1 + 1e-12), m));
        }
        Assert.Contains("svd-w-practical", File.ReadAllText(Path.Combine(Scratch("weighted"), "loss.svg")));
    }

    [Fact]
    public async Task ReproduceFisherMlp_WithoutData_SaysHowToFetchIt()
    {
        var run = await Lowrank("reproduce", "fisher-mlp", "--data", Scratch("missing"), "--out", Scratch("out"));

        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains("scripts/fetch-data.sh", run.Error);
    }

}
