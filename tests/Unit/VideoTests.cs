using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>A test that needs the ffmpeg program: skipped, with the reason shown, where it is not installed
/// (.ci/run installs it).</summary>
public sealed class FfmpegFactAttribute : FactAttribute
{
    public FfmpegFactAttribute()
    {
        if (!Video.IsAvailable())
            Skip = "ffmpeg is not installed (apt-get install ffmpeg)";
    }
}

/// <summary>Test videos made with the ffmpeg program.</summary>
public static class FfmpegVideos
{
    /// <summary>Encodes raw frames (8-bit, row-major) losslessly with FFV1 into a Matroska file.</summary>
    public static string Encode(string path, byte[][] frames, int width, int height, string pixelFormat)
    {
        var start = new ProcessStartInfo(
            "ffmpeg",
            $"-v error -f rawvideo -pix_fmt {pixelFormat} -s {width}x{height} -r 10 -i - -c:v ffv1 -y \"{path}\""
        )
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        foreach (var frame in frames)
            process.StandardInput.BaseStream.Write(frame);
        process.StandardInput.Close();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, errors);
        return path;
    }

}

/// <summary>Video frames through ffmpeg: frames encoded losslessly come back exactly, in order and layout.</summary>
public class VideoTests : ScratchDirectory
{
    private string Encode(string name, byte[][] frames, int width, int height, string pixelFormat) =>
        FfmpegVideos.Encode(Scratch(name), frames, width, height, pixelFormat);

    private static byte[][] Frames(int count, int bytesPerFrame, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var frame = new byte[bytesPerFrame];
            random.NextBytes(frame);
            return frame;
        }).ToArray();
    }

    [FfmpegFact]
    public void GrayFrames_RoundTripExactly_RowByRow()
    {
        const int width = 12, height = 7;
        var frames = Frames(5, width * height, 1);
        var path = Encode("gray.mkv", frames, width, height, "gray");

        var read = Video.Read(path);

        Assert.Equal(5, read.Length);
        for (var t = 0; t < 5; t++)
        {
            var expected = Matrix<double>.Build.Dense(height, width, (i, j) => frames[t][i * width + j]);
            Assert.Equal(expected, read[t]);
        }
    }

    [FfmpegFact]
    public void RgbFrames_AreHeightBy3Width_WithChannelsInterleavedPerPixel()
    {
        const int width = 6, height = 4;
        var frames = Frames(3, 3 * width * height, 2);
        var path = Encode("rgb.mkv", frames, width, height, "rgb24");

        var read = Video.Read(path, VideoPixels.Rgb);

        Assert.Equal(3, read.Length);
        Assert.Equal(height, read[0].RowCount);
        Assert.Equal(3 * width, read[0].ColumnCount);
        // Pixel (1, 2), green channel: byte 3 (1 width + 2) + 1 of the raw rgb24 frame.
        Assert.Equal(frames[2][3 * (1 * width + 2) + 1], read[2][1, 3 * 2 + 1]);
        Assert.Equal(Matrix<double>.Build.Dense(height, 3 * width, (i, j) => frames[1][i * 3 * width + j]), read[1]);
    }

    [FfmpegFact]
    public void MaxFramesAndWidth_LimitTheCountAndResize_KeepingTheAspectRatio()
    {
        var path = Encode("big.mkv", Frames(6, 40 * 30, 3), 40, 30, "gray");

        var read = Video.Read(path, VideoPixels.Gray, maxFrames: 4, width: 20);

        Assert.Equal(4, read.Length);
        Assert.All(read, frame => Assert.Equal((15, 20), (frame.RowCount, frame.ColumnCount)));
        Assert.All(read, frame => Assert.InRange(frame.Enumerate().Min(), 0, 255));
    }

    [FfmpegFact]
    public void AFileFfmpegCannotDecode_IsInvalidDataNamingTheFile()
    {
        File.WriteAllText(Scratch("fake.avi"), "this is not a video");

        var e = Assert.Throws<InvalidDataException>(() => Video.Read(Scratch("fake.avi")));

        Assert.Contains("fake.avi", e.Message);
        Assert.Contains("ffmpeg", e.Message);
    }

    [Fact]
    public void AMissingFile_OrBadArguments_AreRejectedBeforeFfmpegRuns()
    {
        Assert.Throws<FileNotFoundException>(() => Video.Read(Scratch("absent.mp4")));
        Assert.Throws<ArgumentNullException>(() => Video.Read(null!));
        Assert.Equal("maxFrames", Assert.Throws<ArgumentOutOfRangeException>(() => Video.Read("x.mp4", maxFrames: -1)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => Video.Read("x.mp4", width: -2)).ParamName);
    }
}
