using System.Diagnostics;

namespace LowRank.Unit;

/// <summary>Runs the dotnet command as a user would, capturing what it prints.</summary>
internal static class DotnetProcess
{
    /// <summary>`dotnet arguments` in `folder`: the exit code and standard output followed by standard error.</summary>
    public static (int ExitCode, string Output) Run(string arguments, string folder) => Start("dotnet", arguments, folder);

    /// <summary>`program arguments` in `folder` (an installed tool, for instance), as Run.</summary>
    public static (int ExitCode, string Output) Start(string program, string arguments, string folder)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + errors);
    }
}
