using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace LowRank.Unit;

/// <summary>A test that needs MPICH's launcher: skipped, with the reason shown, where it is not installed (.ci/run
/// installs it).</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiRun.Launcher is null)
            Skip = "MPICH is not installed (apt-get install mpich)";
    }
}

/// <summary>Runs programs under mpirun.mpich.</summary>
internal static class MpiRun
{
    public static string? Launcher =>
        Array.Find(["/usr/bin/mpirun.mpich", "/usr/local/bin/mpirun.mpich"], File.Exists);

    /// <summary>`mpirun.mpich -np ranks dotnet arguments`: the exit code and standard output followed by standard error.</summary>
    public static (int ExitCode, string Output) Run(int ranks, string arguments, string folder)
    {
        var start = new ProcessStartInfo(Launcher!, $"-np {ranks} dotnet {arguments}")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"mpirun -np {ranks} dotnet {arguments} ran over 3 minutes:\n{output.Result}{errors.Result}");
        }
        return (process.ExitCode, output.Result + errors.Result);
    }

    /// <summary>The path of a program of this repository built in the tests' own configuration.</summary>
    public static string Program(string project, string assembly)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}")
            ? "Release"
            : "Debug";
        var path = RepositoryFiles.PathOf(Path.Combine(project, "bin", configuration, "net10.0", assembly));
        Assert.True(File.Exists(path), $"{path} is missing: build the solution first (dotnet build LowRank.sln).");
        return path;
    }
}

/// <summary>The distributed algorithms over real MPI (MPI.NET on MPICH), on 1 to 4 ranks: tests/MpiChecks compares
/// distributed SCW (uneven parts, empty ranks), svd_w and the Theorem 3.1 protocol with their single-process results.</summary>
public class MpiTests
{
    [MpiFact]
    public void DistributedAlgorithms_OverMpi_EqualTheSingleProcessResults_On1To4Ranks()
    {
        var program = MpiRun.Program("tests/MpiChecks", "LowRank.MpiChecks.dll");
        for (var ranks = 1; ranks <= 4; ranks++)
        {
            var (exitCode, output) = MpiRun.Run(ranks, $"\"{program}\"", Path.GetTempPath());
            Assert.True(exitCode == 0, $"{ranks} ranks: exit code {exitCode}\n{output}");
            Assert.Contains($"passed on {ranks} ranks", output);
        }
    }
}
