using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using LowRank.Onnx;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary><c>lowrank compress-model</c>: an ONNX model in, a smaller ONNX model out, calibrated on real inputs.</summary>
internal sealed class CompressModelCommand(Terminal terminal)
{
    private readonly Argument<string> model = new Argument<string>("model") { Description = "The ONNX model to compress." };

    private readonly Option<string?> calibration = new Option<string?>("--calibration", "-c")
    {
        Description = "Calibration inputs: a text file (one example a line; needs --vocab), a 2-D .npy matrix (an example per row), a folder of .npy tensors named by the model's inputs (input_ids.npy, ...; the first axis indexes the examples), or a folder of images (PNG, JPEG, BMP, WebP, GIF) for a model with one image input (see --image-mean, --image-std, --bgr, --image-resize).",
    };

    private readonly Option<string> imageMean = new Option<string>("--image-mean")
    {
        Description = "Images: the mean subtracted from each channel, in pixel units 0-255, R,G,B (or one for all). Default: torchvision's ImageNet mean.",
        DefaultValueFactory = _ => "123.675,116.28,103.53",
    };

    private readonly Option<string> imageStd = new Option<string>("--image-std")
    {
        Description = "Images: what each channel is divided by after the mean, in pixel units, R,G,B (or one for all). Default: torchvision's ImageNet std; 1 for Caffe-style models.",
        DefaultValueFactory = _ => "58.395,57.12,57.375",
    };

    private readonly Option<bool> bgr = new Option<bool>("--bgr") { Description = "Images: channels in B, G, R order (Caffe-style models); --image-mean and --image-std stay R,G,B." };

    private readonly Option<int?> imageResize = new Option<int?>("--image-resize")
    {
        Description = "Images: the shorter side after resizing, before the centre crop to the model's input size (e.g. 256 for a 224 crop). Default: the crop's size.",
    };

    private readonly Option<string?> vocabulary = new Option<string?>("--vocab") { Description = "The WordPiece vocabulary (vocab.txt) of a BERT-style model." };

    private readonly Option<double?> fraction = new Option<double?>("--parameters", "-p")
    {
        Description = "Fraction of the budget layers' weights kept, in (0, 1]: 0.5 unless given; with --cosine, the most kept.",
    };

    private readonly Option<double?> cosine = new Option<double?>("--cosine")
    {
        Description = "Keep only what a predicted mean cosine of the output to the original's needs, in (0, 1) (from the "
            + "sensitivity probes; --evaluate measures the achieved one).",
    };

    private readonly Option<string> method = new Option<string>("--method", "-m")
    {
        Description = "svd (blind to data), data-aware (each layer alone) or sequential (each layer matches the original outputs from what it receives).",
        DefaultValueFactory = _ => "sequential",
    };

    private readonly Option<string> allocation = new Option<string>("--allocation")
    {
        Description = "spectrum (ranks where they buy the most, from the whitened spectra), sensitivity (the same, each layer's error "
            + "weighted by how much the output moves when it alone is compressed) or uniform (the same fraction in every layer).",
        DefaultValueFactory = _ => "sensitivity",
    };

    private readonly Option<string> layers = new Option<string>("--layers")
    {
        Description = "Layer kinds the budget covers, comma-separated among MatMul, Gemm, Conv.",
        DefaultValueFactory = _ => "MatMul,Gemm,Conv",
    };

    private readonly Option<string?> include = new Option<string?>("--include")
    {
        Description = "Only layers whose name matches this regular expression are compressed (the others stay as they are).",
    };

    private readonly Option<int> embeddingRank = new Option<int>("--embedding-rank")
    {
        Description = "Rank of vocabulary tables (Gather) by frequency-weighted svd_w; 0 leaves them dense.",
    };

    private readonly Option<int> embeddingExactRows = new Option<int>("--embedding-exact-rows")
    {
        Description = "With --embedding-rank: keep the rows of this many tokens, the most frequent in the calibration data, exactly, and factor only the others (0: factor every row).",
    };

    private readonly Option<string> embeddingWeights = new Option<string>("--embedding-weights")
    {
        Description = "frequency (rows weighted by sqrt(1 + token count in the calibration data), svd_w) or none (plain SVD of the table).",
        DefaultValueFactory = _ => "frequency",
    };

    private readonly Option<string> factors = new Option<string>("--factors")
    {
        Description = "pivoted (r of the layer's own output columns and the others' coefficients: r (n + d - r) numbers, MatMul only) "
            + "or product (Left Right: r (n + d) numbers).",
        DefaultValueFactory = _ => "pivoted",
    };

    private readonly Option<double> ridge = new Option<double>("--ridge")
    {
        Description = "The ridge added to each input covariance, relative to its mean eigenvalue (> 0).",
        DefaultValueFactory = _ => 1e-4,
    };

    private readonly Option<int> maxTokens = new Option<int>("--max-tokens") { Description = "Tokens per text example at most.", DefaultValueFactory = _ => 128 };

    private readonly Option<int> count = new Option<int>("--count") { Description = "Use only the first N calibration examples (0: all)." };

    private readonly Option<string?> evaluate = new Option<string?>("--evaluate")
    {
        Description = "Held-out inputs (same format as --calibration): report the compressed model's fidelity to the original.",
    };

    private readonly Option<string> output = new Option<string>("--out", "-o") { Description = "The compressed .onnx file to write.", Required = true };

    private readonly Option<bool> json = Options.Json();

    public static Command Create(Terminal terminal) => new CompressModelCommand(terminal).Build();

    private Command Build()
    {
        method.AcceptOnlyFromAmong("svd", "data-aware", "sequential");
        allocation.AcceptOnlyFromAmong("spectrum", "sensitivity", "uniform");
        embeddingWeights.AcceptOnlyFromAmong("frequency", "none");
        factors.AcceptOnlyFromAmong("pivoted", "product");
        var command = new Command(
            "compress-model",
            "Compress an ONNX model (MatMul, Gemm, Conv; Gather tables with --embedding-rank) under one parameter budget, "
                + "calibrated on real inputs through ONNX Runtime, and write the smaller model."
        );
        Options.Add(command, model, calibration, vocabulary, fraction, cosine, method, allocation, layers, include, embeddingRank, embeddingExactRows, embeddingWeights, factors, ridge, maxTokens, count,
            imageMean, imageStd, bgr, imageResize, evaluate, output, json);

        command.SetAction(RunAsync);
        return command;
    }

    private async Task<int> RunAsync(ParseResult parsed, CancellationToken cancellationToken)
    {
        var outPath = parsed.GetRequiredValue(output);
        Inputs.RequireFolderOf(outPath, "--out");
        var modelPath = parsed.GetRequiredValue(model);
        if (!File.Exists(modelPath))
            throw new ArgumentException(Inputs.Missing("model", modelPath, "expected an .onnx file"));
        if (parsed.GetValue(fraction) is { } f && !(f > 0 && f <= 1))
            throw new ArgumentException($"Expected --parameters in (0, 1], but it is {f}.");
        if (parsed.GetValue(cosine) is { } c && !(c > 0 && c < 1))
            throw new ArgumentException($"Expected --cosine in (0, 1), but it is {c}.");
        if (parsed.GetValue(cosine) is not null && parsed.GetValue(allocation) != "sensitivity")
            throw new ArgumentException($"--cosine is predicted by the sensitivity probes: it needs --allocation sensitivity, not {parsed.GetValue(allocation)}.");
        if (!(parsed.GetValue(ridge) is var r && r > 0 && double.IsFinite(r)))
            throw new ArgumentException($"Expected a finite --ridge > 0, but it is {parsed.GetValue(ridge)}.");
        var options = new ModelCompressionOptions
        {
            ParameterFraction = parsed.GetValue(fraction),
            TargetCosine = parsed.GetValue(cosine),
            Method = parsed.GetValue(method) switch
            {
                "svd" => CompressionMethod.Svd,
                "data-aware" => CompressionMethod.DataAware,
                _ => CompressionMethod.Sequential,
            },
            Allocation = parsed.GetValue(allocation) switch
            {
                "uniform" => RankAllocation.Uniform,
                "spectrum" => RankAllocation.Spectrum,
                _ => RankAllocation.Sensitivity,
            },
            Kinds = ParseKinds(parsed.GetRequiredValue(layers)),
            NamePattern = parsed.GetValue(include),
            EmbeddingRank = parsed.GetValue(embeddingRank),
            EmbeddingExactRows = parsed.GetValue(embeddingExactRows),
            EmbeddingFrequencyWeights = parsed.GetValue(embeddingWeights) != "none",
            PivotedFactors = parsed.GetValue(factors) != "product",
            Ridge = parsed.GetValue(ridge),
        };
        var vocab = parsed.GetValue(vocabulary);
        var tokens = parsed.GetValue(maxTokens);
        var limit = parsed.GetValue(count);
        var images = new ImagePreprocessing(ImagePreprocessing.Channels("--image-mean", parsed.GetRequiredValue(imageMean)),
            ImagePreprocessing.Channels("--image-std", parsed.GetRequiredValue(imageStd)), parsed.GetValue(bgr), parsed.GetValue(imageResize));
        if (images.Std.Any(x => x <= 0))
            throw new ArgumentException($"--image-std: expected positive numbers, but it is '{parsed.GetValue(imageStd)}'.");
        if (images.Resize is < 1)
            throw new ArgumentException($"--image-resize: expected a size >= 1, but it is {images.Resize}.");
        // Image folders become temporary .npy files, deleted when the command ends however it ends.
        var scratch = Directory.CreateTempSubdirectory("lowrank-images").FullName;
        try
        {
            var inputs = new Reading(modelPath, vocab, tokens, images, scratch);
            var data = parsed.GetValue(calibration) is { } path ? inputs.Read(path, limit, "--calibration") : null;
            var heldOut = parsed.GetValue(evaluate) is { } evaluatePath ? inputs.Read(evaluatePath, 0, "--evaluate") : null;

            var result = await ModelCompression.CompressAsync(modelPath, data, options, new ProgressLine(terminal), cancellationToken);
            result.Save(outPath);
            FidelityReport? fidelity = heldOut is null
                ? null
                : await Task.Run(() => ModelFidelity.Evaluate(OnnxSource.File(modelPath), OnnxSource.File(outPath), heldOut, null,
                    cancellationToken), cancellationToken);
            Print(terminal, parsed.GetValue(json), modelPath, outPath, result, fidelity, data, heldOut);
            return 0;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static LayerKind[] ParseKinds(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(k => Enum.TryParse<LayerKind>(k, ignoreCase: true, out var kind) && kind != LayerKind.Gather
                ? kind
                : throw new ArgumentException($"--layers takes MatMul, Gemm and Conv, but it has '{k}'."))
            .ToArray();

    /// <summary>Reads --calibration and --evaluate: text, a .npy matrix, a folder of tensors or a folder of images.</summary>
    private sealed record Reading(string ModelPath, string? Vocab, int MaxTokens, ImagePreprocessing Images, string Scratch)
    {
        public CalibrationData Read(string path, int limit, string option)
        {
            CalibrationData data;
            if (Directory.Exists(path) && ImageFolder.Images(path) is { Length: > 0 } images)
                data = CalibrationData.Npy(ImageFolder.ToNpy(ModelPath, images, Images, option,
                    Path.Combine(Scratch, option.TrimStart('-') + ".npy")));
            else if (Directory.Exists(path))
                data = CalibrationData.Tensors(path);
            else if (!File.Exists(path))
                throw new ArgumentException(Inputs.Missing(option, path, "expected a text file, a .npy matrix, a folder of .npy tensors or a folder of images"));
            else if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
                data = CalibrationData.Npy(path);
            else if (Vocab is null)
                throw new ArgumentException($"{option}: text inputs need the model's vocabulary: --vocab vocab.txt (or give a .npy matrix).");
            else
                data = CalibrationData.Text(File.ReadLines(path), Vocab, MaxTokens);
            return limit > 0 && limit < data.Count ? data.Slice(0, limit) : data;
        }
    }

    private static void Print(Terminal terminal, bool json, string modelPath, string outPath, CompressedModel result,
        FidelityReport? fidelity, CalibrationData? data, CalibrationData? heldOut)
    {
        var before = new FileInfo(modelPath).Length;
        var after = new FileInfo(outPath).Length;
        if (json)
        {
            terminal.Output.WriteLine(JsonSerializer.Serialize(new
            {
                layers = result.Layers.Select(l => new
                {
                    name = l.Layer.Name,
                    kind = l.Layer.Kind.ToString(),
                    inputs = l.Layer.Inputs,
                    outputs = l.Layer.Outputs,
                    rank = l.Rank,
                    dense = l.KeepsDense,
                    pivoted = l.Pivoted,
                    parameters = l.Parameters,
                    predictedError = l.PredictedError,
                    relativeError = l.RelativeError,
                }),
                parametersBefore = result.ParametersBefore,
                parametersAfter = result.ParametersAfter,
                bytesBefore = before,
                bytesAfter = after,
                truncated = result.TruncatedExamples,
                predictedCosine = result.PredictedCosine,
                fidelity = fidelity is null ? null : new
                {
                    meanCosine = fidelity.MeanCosine,
                    cosine5thPercentile = fidelity.Cosine5thPercentile,
                    neighbourAgreement = fidelity.NeighbourAgreement,
                    top1Agreement = fidelity.Top1Agreement,
                    secondsPerInputOriginal = fidelity.SecondsPerInputOriginal,
                    secondsPerInputCompressed = fidelity.SecondsPerInputCompressed,
                },
            }, Json.Options));
            return;
        }

        var table = new Table().AddColumns("layer", "kind", "n x d", "rank", "parameters", "kept", "predicted error", "relative error");
        foreach (var l in result.Layers)
            table.AddRow(
                Markup.Escape(l.Layer.Name),
                l.Layer.Kind.ToString(),
                $"{l.Layer.Inputs} x {l.Layer.Outputs}",
                l.KeepsDense ? "dense" : l.Pivoted ? $"{l.Rank} pivoted" : $"{l.Rank}",
                $"{l.Parameters}",
                $"{100.0 * l.Parameters / l.Layer.Parameters:0.0}%",
                $"{l.PredictedError:0.0000}",
                $"{l.RelativeError:0.0000}");
        terminal.Console.Write(table);
        var facts = new System.Collections.Generic.List<(string, string)>
        {
            ("weights", $"{result.ParametersBefore} -> {result.ParametersAfter} ({100.0 * result.ParametersAfter / result.ParametersBefore:0.0}%) in the compressed layers"),
            ("file", $"{before / 1e6:0.0} MB -> {after / 1e6:0.0} MB ({outPath})"),
        };
        if (result.PredictedCosine is { } predicted)
            facts.Add(("predicted cosine", $"{predicted:0.0000} (first order, from the sensitivity probes"
                + (result.Layers.Any(l => l.Layer.Kind == LayerKind.Gather) ? "; the vocabulary tables are not in it)" : ")")));
        if (data is not null)
            facts.Add(("calibration", $"{data.Count} examples" + (result.TruncatedExamples > 0 ? $", {result.TruncatedExamples} cut to the token limit" : "")));
        if (fidelity is not null && heldOut is not null)
        {
            facts.Add(("held-out inputs", $"{heldOut.Count}" + (heldOut.Truncated > 0 ? $", {heldOut.Truncated} cut to the token limit" : "")));
            facts.Add(("cosine to original", $"mean {fidelity.MeanCosine:0.0000}, 5th percentile {fidelity.Cosine5thPercentile:0.0000}"));
            facts.Add(("nearest-neighbour agreement", $"{100 * fidelity.NeighbourAgreement:0.0}%"));
            facts.Add(("top-1 agreement", $"{100 * fidelity.Top1Agreement:0.0}% (meaningful for classifiers)"));
            facts.Add(("time per input", $"{1e3 * fidelity.SecondsPerInputOriginal:0.00} ms -> {1e3 * fidelity.SecondsPerInputCompressed:0.00} ms ({fidelity.SecondsPerInputCompressed / fidelity.SecondsPerInputOriginal:0.00}x)"));
        }
        terminal.Console.Write(Tables.Facts(facts.ToArray()));
    }

    /// <summary>A line a stage (and every tenth of it): readable in a log, and on a terminal alike.</summary>
    private sealed class ProgressLine(Terminal terminal) : IProgress<ModelCompressionProgress>
    {
        private string stage = "";
        private int tenth = -1;

        public void Report(ModelCompressionProgress value)
        {
            var now = value.Total == 0 ? 10 : 10 * value.Done / value.Total;
            if (value.Stage == stage && now == tenth)
                return;
            stage = value.Stage;
            tenth = now;
            terminal.Error.WriteLine($"{value.Stage}: {value.Done}/{value.Total}");
        }
    }
}
