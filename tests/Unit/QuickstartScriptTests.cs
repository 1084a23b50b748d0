using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace LowRank.Unit;

/// <summary>scripts/quickstart.fsx, the F# interactive walkthrough, runs with dotnet fsi exactly as the README says.</summary>
public class QuickstartScriptTests
{
    [Fact]
    public void QuickstartScript_RunsWithDotnetFsi_AndItsLearnedSketchBeatsTheRandomOne()
    {
        // The script references src/Core.FSharp/bin/Debug, which building this test project (Debug) has produced.
        var start = new ProcessStartInfo("dotnet", "fsi scripts/quickstart.fsx")
        {
            WorkingDirectory = RepositoryFiles.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}: {errors}\n{output}");

        Assert.Matches(@"SCW error \d+\.\d+, optimal rank-10 error \d+\.\d+", output);
        var learned = Regex.Match(output, @"test error: learned (\d+\.\d+), random CountSketch (\d+\.\d+)");
        Assert.True(learned.Success, output);
        Assert.True(
            double.Parse(learned.Groups[1].Value, CultureInfo.InvariantCulture) < double.Parse(learned.Groups[2].Value, CultureInfo.InvariantCulture),
            output);
    }
}
