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
        var block = DocBlocks.Of(DocBlocks.Text("README.md"), "csharp").FirstOrDefault();
        Assert.True(block is not null, "README.md has no ```csharp block.");
        var program = File.ReadAllText(RepositoryFiles.PathOf("tests/ReadmeExample/Program.cs"));
        Assert.Equal(Normalise(program), Normalise(block));
    }

    [Fact]
    public void DocsConjectureExample_IsTheTestedOne()
    {
        // The LowRank.Testing example of docs/development.md is the marked region of ConjectureTests.cs, indentation aside.
        var region = DocBlocks.Region(DocBlocks.Text("tests/Unit/ConjectureTests.cs"), "README:");
        Assert.True(region is not null, "ConjectureTests.cs has no README region.");
        Assert.Contains(DocBlocks.Lines(region), DocBlocks.Lines(DocBlocks.Text("docs/development.md")));
    }

    [Fact]
    public void ReadmeModelCompressionExample_IsTheTestedOne()
    {
        // The README's LowRank.Onnx program, after its `var data = "data";` line, is the marked region of
        // OnnxModelTests.cs (which runs it on a toy model laid out as scripts/fetch-data.sh lays out the real one).
        var readme = DocBlocks.Text("README.md");
        var section = readme[readme.IndexOf("## Compressing a real model", StringComparison.Ordinal)..];
        var block = Regex.Match(section, "```csharp\n.*?var data = \"data\";[^\n]*\n(.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, "README.md's model-compression section has no C# block with `var data = \"data\";`.");
        var region = DocBlocks.Region(DocBlocks.Text("tests/Unit/OnnxModelTests.cs"), "README:");
        Assert.True(region is not null, "OnnxModelTests.cs has no README region.");
        Assert.Equal(DocBlocks.Lines(block.Groups[1].Value), DocBlocks.Lines(region));
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
