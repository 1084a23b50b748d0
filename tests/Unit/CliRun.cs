using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using LowRank.Cli;
using Xunit;

namespace LowRank.Unit;

/// <summary>One run of the lowrank command line in process, with its output captured.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    public static async Task<CliRun> Lowrank(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await App.RunAsync(args, Terminal.Captured(output, error), handleSignals: false, CancellationToken.None);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public static string Invariant(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Writes generated video-like frames as a .npy stack at `path`.</summary>
    public static string WriteStack(string path, int count, int rows, int columns, int seed)
    {
        Npy.WriteStack(path, Synthetic.VideoLike(count, rows, columns, seed));
        return path;
    }

    public static void AssertFailsInOneLine(CliRun run, string message)
    {
        Assert.Equal(App.Failure, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("", run.Output);
    }
}
