using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace LowRank.Unit;

/// <summary>The README's C# program is tests/ReadmeExample/Program.cs to the character, and it runs.</summary>
public class ReadmeTests
{
    private static string Normalise(string text) => text.Replace("\r\n", "\n").Trim() + "\n";

    [Fact]
    public void ReadmeCSharpBlock_IsTheCompiledExampleProgram()
    {
        var readme = File.ReadAllText(RepositoryFiles.PathOf("README.md"));
        var block = Regex.Match(readme, "```csharp\\n(.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, "README.md has no ```csharp block.");
        var program = File.ReadAllText(RepositoryFiles.PathOf("tests/ReadmeExample/Program.cs"));
        Assert.Equal(Normalise(program), Normalise(block.Groups[1].Value));
    }

    [Fact]
    public void DocsConjectureExample_IsTheTestedOne()
    {
        // The LowRank.Testing example of docs/development.md is the marked region of ConjectureTests.cs, indentation aside.
        static string Lines(string text) =>
            string.Join("\n", text.Replace("\r\n", "\n").Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0));
        var source = File.ReadAllText(RepositoryFiles.PathOf("tests/Unit/ConjectureTests.cs"));
        var region = Regex.Match(source, "// README: begin\n(.*?)// README: end", RegexOptions.Singleline);
        Assert.True(region.Success, "ConjectureTests.cs has no README region.");
        Assert.Contains(Lines(region.Groups[1].Value), Lines(File.ReadAllText(RepositoryFiles.PathOf("docs/development.md"))));
    }

    [Fact]
    public void ReadmeModelCompressionExample_IsTheTestedOne()
    {
        // The README's LowRank.Onnx program, after its `var data = "data";` line, is the marked region of
        // OnnxModelTests.cs (which runs it on a toy model laid out as scripts/fetch-data.sh lays out the real one).
        static string Lines(string text) =>
            string.Join("\n", text.Replace("\r\n", "\n").Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0));
        var readme = File.ReadAllText(RepositoryFiles.PathOf("README.md")).Replace("\r\n", "\n");
        var section = readme[readme.IndexOf("## Compressing a real model", StringComparison.Ordinal)..];
        var block = Regex.Match(section, "```csharp\n.*?var data = \"data\";[^\n]*\n(.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, "README.md's model-compression section has no C# block with `var data = \"data\";`.");
        var source = File.ReadAllText(RepositoryFiles.PathOf("tests/Unit/OnnxModelTests.cs"));
        var region = Regex.Match(source, "// README: begin\n(.*?)// README: end", RegexOptions.Singleline);
        Assert.True(region.Success, "OnnxModelTests.cs has no README region.");
        Assert.Equal(Lines(block.Groups[1].Value), Lines(region.Groups[1].Value));
    }

    [Fact]
    public void ReadmeExample_RunsAndPrintsBothErrors()
    {
        // The example project is built with this one (a project reference), so its assembly sits beside the tests.
        var dll = Path.Combine(AppContext.BaseDirectory, "ReadmeExample.dll");
        var start = new ProcessStartInfo("dotnet", $"\"{dll}\"") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}: {errors}");

        var scw = Regex.Match(output, @"rank 10, error (\d+\.\d+)");
        var optimal = Regex.Match(output, @"Optimal rank-10 error \(truncated SVD\):\s+(\d+\.\d+)");
        Assert.True(scw.Success && optimal.Success, output);
        Assert.True(double.Parse(scw.Groups[1].Value) >= double.Parse(optimal.Groups[1].Value), output);
    }
}
