using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using SkiaSharp;

namespace LowRank.Cli;

/// <summary>How images become an image model's input: resized so the shorter side is <see cref="Resize"/> pixels,
/// centre-cropped to the model's height x width, and each channel taken as (pixel - mean) / std with pixels in 0-255.
/// The defaults are torchvision's ImageNet normalisation (RGB, mean 0.485 0.456 0.406 and std 0.229 0.224 0.225 of 255),
/// which most ONNX image models exported from PyTorch expect; Caffe-style models want BGR, their own means and std 1.
/// </summary>
internal sealed record ImagePreprocessing(double[] Mean, double[] Std, bool Bgr, int? Resize)
{
    public static readonly double[] TorchvisionMean = [123.675, 116.28, 103.53];
    public static readonly double[] TorchvisionStd = [58.395, 57.12, 57.375];

    /// <summary>Parses "a,b,c" (one number a channel, or one for all), naming the option when it is not that.</summary>
    public static double[] Channels(string option, string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                throw new ArgumentException($"{option}: expected numbers separated by commas (one a channel), but it is '{text}'.");
        }
        if (values.Length is not (1 or 3))
            throw new ArgumentException($"{option}: expected one number or three (R,G,B), but '{text}' has {values.Length}.");
        return values.Length == 1 ? [values[0], values[0], values[0]] : values;
    }
}

/// <summary>A folder of images (PNG, JPEG, BMP, WebP, GIF) as the examples of an image model's one float input, written to
/// a .npy file that <see cref="LowRank.Onnx.CalibrationData.Npy"/> reads: the CLI decodes images with SkiaSharp, which
/// its charts already carry, so the LowRank.Onnx library stays free of an image codec (its users give a .npy stack or
/// tensors).</summary>
internal static class ImageFolder
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif"];

    /// <summary>The folder's image files in ordinal name order, or none when it holds any .npy file (then it is a
    /// folder of tensors).</summary>
    public static string[] Images(string folder)
    {
        var files = Directory.GetFiles(folder);
        if (files.Any(f => f.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)))
            return [];
        return files.Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Writes the images as rows of a float32 .npy file, each row the model input's one example (channels
    /// first or last, as the model's input shape says), and returns the file's path.</summary>
    /// <exception cref="ArgumentException">The model has not one float input of shape [batch, 1 or 3, H, W] or
    /// [batch, H, W, 1 or 3] with known H and W, or an image cannot be decoded (named).</exception>
    public static string ToNpy(string modelPath, string[] images, ImagePreprocessing preprocessing, string option, string npyPath)
    {
        var (channels, height, width, channelsFirst) = InputShape(modelPath, option);
        var row = new float[channels * height * width];
        var bytes = new byte[row.Length * sizeof(float)];
        using var file = new FileStream(npyPath, FileMode.Create, FileAccess.Write);
        WriteHeader(file, images.Length, row.Length);
        foreach (var image in images)
        {
            using var bitmap = Decode(image, option);
            var (scaled, left, top) = Scale(bitmap, height, width, preprocessing.Resize);
            using var _ = scaled;
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    // The centre crop: the scaled image's pixels from (left, top).
                    var pixel = scaled.GetPixel(left + x, top + y);
                    double[] rgb = channels == 1
                        ? [0.299 * pixel.Red + 0.587 * pixel.Green + 0.114 * pixel.Blue]
                        : preprocessing.Bgr ? [pixel.Blue, pixel.Green, pixel.Red] : [pixel.Red, pixel.Green, pixel.Blue];
                    for (var c = 0; c < channels; c++)
                    {
                        var value = (rgb[c] - preprocessing.Mean[c]) / preprocessing.Std[c];
                        row[channelsFirst ? (c * height + y) * width + x : (y * width + x) * channels + c] = (float)value;
                    }
                }
            }
            Buffer.BlockCopy(row, 0, bytes, 0, bytes.Length);
            file.Write(bytes);
        }
        return npyPath;
    }

    private static (int Channels, int Height, int Width, bool ChannelsFirst) InputShape(string modelPath, string option)
    {
        using var session = new InferenceSession(modelPath);
        var inputs = session.InputMetadata.Where(i => i.Value.ElementType == typeof(float)).ToArray();
        if (inputs.Length != 1 || session.InputMetadata.Count != 1)
            throw new ArgumentException($"{option}: a folder of images needs a model with one float input, but {Path.GetFileName(modelPath)} has "
                + $"{session.InputMetadata.Count} inputs ({string.Join(", ", session.InputMetadata.Keys)}); give a folder of .npy tensors instead.");
        var dims = inputs[0].Value.Dimensions;
        string Shape() => "[" + string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))) + "]";
        if (dims.Length == 4 && dims[1] is 1 or 3 && dims[2] > 0 && dims[3] > 0)
            return (dims[1], dims[2], dims[3], true);
        if (dims.Length == 4 && dims[3] is 1 or 3 && dims[1] > 0 && dims[2] > 0)
            return (dims[3], dims[1], dims[2], false);
        throw new ArgumentException($"{option}: a folder of images needs an input of shape [batch, 1 or 3, H, W] or [batch, H, W, 1 or 3] "
            + $"with known H and W, but '{inputs[0].Key}' is {Shape()}; give a .npy matrix of examples instead.");
    }

    private static SKBitmap Decode(string path, string option)
    {
        try
        {
            return SKBitmap.Decode(path) ?? throw new ArgumentException($"{option}: '{path}' is not an image SkiaSharp can decode.");
        }
        catch (Exception e) when (e is not ArgumentException and not OutOfMemoryException)
        {
            throw new ArgumentException($"{option}: '{path}' is not an image SkiaSharp can decode: {e.Message}", e);
        }
    }

    /// <summary>Scales the image so that it covers height x width with its shorter side at <paramref name="resize"/>
    /// (default: the crop's own larger side, so nothing beyond the aspect ratio is cut), and the top-left corner of the
    /// centred height x width crop in it.</summary>
    private static (SKBitmap Scaled, int Left, int Top) Scale(SKBitmap bitmap, int height, int width, int? resize)
    {
        var shorter = resize ?? Math.Max(height, width);
        var scale = Math.Max((double)shorter / Math.Min(bitmap.Width, bitmap.Height),
            Math.Max((double)height / bitmap.Height, (double)width / bitmap.Width));
        var scaledWidth = Math.Max(width, (int)Math.Round(bitmap.Width * scale));
        var scaledHeight = Math.Max(height, (int)Math.Round(bitmap.Height * scale));
        var info = new SKImageInfo(scaledWidth, scaledHeight, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var scaled = bitmap.Resize(info, new SKSamplingOptions(SKCubicResampler.Mitchell))
            ?? throw new InvalidOperationException("SkiaSharp could not resize an image.");
        return (scaled, (scaledWidth - width) / 2, (scaledHeight - height) / 2);
    }

    /// <summary>A version 1.0 header of a C-order float32 array of <paramref name="rows"/> x <paramref name="columns"/>.</summary>
    private static void WriteHeader(Stream stream, int rows, int columns)
    {
        var dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {columns}), }}";
        var padding = 63 - (10 + dict.Length) % 64;
        var header = dict + new string(' ', padding) + "\n";
        stream.Write([0x93, .. "NUMPY"u8, 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.Latin1.GetBytes(header));
    }
}
