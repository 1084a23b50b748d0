using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using LowRank.Cli;
using LowRank.Tests;
using SkiaSharp;
using Xunit;

namespace LowRank.Unit;

/// <summary>compress-model -c FOLDER with images: each image becomes one example of the model's image input, scaled and
/// centre-cropped to its size, each channel (pixel - mean) / std in the model's layout; the command runs end to end on
/// a folder of PNGs, and a bad image or a model without an image input fails in one line.</summary>
public sealed class ImageFolderTests : ScratchDirectory
{
    private static readonly ImagePreprocessing Torchvision =
        new(ImagePreprocessing.TorchvisionMean, ImagePreprocessing.TorchvisionStd, Bgr: false, Resize: null);

    /// <summary>A PNG of width x height whose pixel (x, y) is colour(x, y).</summary>
    private string Png(string folder, string name, int width, int height, Func<int, int, SKColor> colour)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, colour(x, y));
        var path = Path.Combine(folder, name);
        using var file = File.Create(path);
        bitmap.Encode(file, SKEncodedImageFormat.Png, 100);
        return path;
    }

    private string Folder(string name) => Directory.CreateDirectory(Scratch(name)).FullName;

    private static SKColor Gradient(int x, int y) => new((byte)(40 * x), (byte)(30 * y + 5), (byte)(200 - 20 * x));

    [Fact]
    public void AnImageOfTheModelsSize_BecomesItsPixels_ChannelsFirst_Normalised()
    {
        var folder = Folder("images");
        Png(folder, "a.png", 6, 6, Gradient);
        Png(folder, "b.png", 6, 6, (x, y) => Gradient(5 - x, 5 - y));
        var model = OnnxGraphs.Save(OnnxGraphs.Image(channels: 3), Scratch(""), "image.onnx");

        var images = ImageFolder.Images(folder);
        var rows = Npy.ReadMatrix(ImageFolder.ToNpy(model, images, Torchvision, "--calibration", Scratch("images.npy")));

        Assert.Equal(["a.png", "b.png"], images.Select(Path.GetFileName));
        Assert.Equal((2, 3 * 36), (rows.RowCount, rows.ColumnCount));
        for (var c = 0; c < 3; c++)
            for (var y = 0; y < 6; y++)
                for (var x = 0; x < 6; x++)
                {
                    var pixel = Gradient(x, y);
                    var value = new double[] { pixel.Red, pixel.Green, pixel.Blue }[c];
                    var expected = (float)((value - ImagePreprocessing.TorchvisionMean[c]) / ImagePreprocessing.TorchvisionStd[c]);
                    Assert.Equal(expected, rows[0, (c * 6 + y) * 6 + x], 6);
                }
    }

    [Fact]
    public void ALargerImage_IsScaledAndCentreCropped_AndBgrSwapsTheChannels()
    {
        // 12 x 8: scaled to 9 x 6, centre 6 x 6 kept. Left third red, middle green, right third blue: after the crop
        // the columns are mostly red, then green, then blue; uniform regions stay exact whatever the filter.
        var folder = Folder("wide");
        Png(folder, "wide.png", 12, 8, (x, _) => x < 4 ? new SKColor(255, 0, 0) : x < 8 ? new SKColor(0, 255, 0) : new SKColor(0, 0, 255));
        var model = OnnxGraphs.Save(OnnxGraphs.Image(channels: 3), Scratch(""), "image.onnx");
        var plain = new ImagePreprocessing([0, 0, 0], [1, 1, 1], Bgr: false, Resize: null);

        var rgb = Npy.ReadMatrix(ImageFolder.ToNpy(model, ImageFolder.Images(folder), plain, "-c", Scratch("rgb.npy")));
        var bgr = Npy.ReadMatrix(ImageFolder.ToNpy(model, ImageFolder.Images(folder), plain with { Bgr = true }, "-c", Scratch("bgr.npy")));

        double At(int c, int y, int x) => rgb[0, (c * 6 + y) * 6 + x];
        Assert.Equal(255, At(0, 3, 0), 3); // the crop's left edge is red
        Assert.Equal(255, At(1, 3, 3), 3); // its middle green
        Assert.Equal(255, At(2, 3, 5), 3); // its right edge blue
        for (var p = 0; p < 36; p++)
        {
            Assert.Equal(rgb[0, p], bgr[0, 2 * 36 + p]);
            Assert.Equal(rgb[0, 36 + p], bgr[0, 36 + p]);
        }
    }

    [Fact]
    public async Task CompressModel_CalibratesAndEvaluatesOnAFolderOfImages()
    {
        var folder = Folder("calibration");
        for (var i = 0; i < 12; i++)
            Png(folder, $"{i:00}.png", 9 + i % 3, 6 + i % 2, (x, y) => Gradient((x + i) % 6, (y * i) % 6));
        var model = OnnxGraphs.Save(OnnxGraphs.Image(channels: 3), Scratch(""), "image.onnx");
        var output = Scratch("small.onnx");

        var run = await CliRun.Lowrank("compress-model", model, "-c", folder, "--evaluate", folder, "-m", "data-aware", "-p", "0.7",
            "--image-resize", "7", "-o", output);

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        Assert.True(File.Exists(output));
        Assert.Contains("12 examples", run.Output);
        Assert.Contains("cosine to original", run.Output);
    }

    [Theory]
    [InlineData("broken", "broken.png' is not an image SkiaSharp can decode")]
    [InlineData("text-model", "a folder of images needs a model with one float input")]
    [InlineData("std", "--image-std: expected positive numbers")]
    [InlineData("mean", "--image-mean: expected one number or three (R,G,B), but '1,2' has 2")]
    public async Task CompressModel_OnImages_FailsInOneLine(string problem, string message)
    {
        var folder = Folder("images");
        Png(folder, "a.png", 6, 6, Gradient);
        if (problem == "broken")
            File.WriteAllText(Path.Combine(folder, "broken.png"), "not a png");
        var model = OnnxGraphs.Save(problem == "text-model" ? OnnxGraphs.Text() : OnnxGraphs.Image(channels: 3), Scratch(""), "model.onnx");
        string[] extra = problem switch { "std" => ["--image-std", "0"], "mean" => ["--image-mean", "1,2"], _ => [] };
        var output = Scratch("small.onnx");

        CliRun.AssertFailsInOneLine(await CliRun.Lowrank(["compress-model", model, "-c", folder, .. extra, "-o", output]), message);
        Assert.False(File.Exists(output));
    }
}
