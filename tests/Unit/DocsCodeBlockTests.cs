using System.IO;
using System.Linq;
using Xunit;

namespace LowRank.Unit;

/// <summary>Every F# code block of README.md, docs/ and the package readmes runs in F# interactive against the library
/// the last build wrote, so a signature change breaks the build, not the reader. (The C# blocks are compiled and run
/// by ReadmeTests, OnnxModelTests and PackageTests.)</summary>
// Reads the loader the library's build writes: never beside a test that rebuilds it.
[Collection(nameof(BuildsTheRepository))]
public class DocsCodeBlockTests : ScratchDirectory
{
    public static TheoryData<string, int> FSharpBlocks()
    {
        var data = new TheoryData<string, int>();
        var files = new[] { "README.md" }
            .Concat(Directory.GetFiles(RepositoryFiles.PathOf("docs"), "*.md", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(RepositoryFiles.Root, f).Replace('\\', '/')))
            .Order(System.StringComparer.Ordinal);
        foreach (var file in files)
        {
            var count = Blocks(file).Length;
            for (var i = 0; i < count; i++)
                data.Add(file, i);
        }
        return data;
    }

    private static string[] Blocks(string file) => DocBlocks.Of(DocBlocks.Text(file), "fsharp");

    [Theory]
    [MemberData(nameof(FSharpBlocks))]
    public void FSharpBlock_RunsInFSharpInteractive(string file, int index)
    {
        var loader = RepositoryFiles.PathOf("src/Core.FSharp/obj/LowRank.Core.fsx").Replace('\\', '/');
        var script = Scratch("block.fsx");
        File.WriteAllText(script, $"#load \"{loader}\"\n" + Blocks(file)[index]);

        var (exitCode, output) = DotnetProcess.Run($"fsi \"{script}\"", Scratch(""));

        Assert.True(exitCode == 0, $"{file}, F# block {index + 1}:\n{output}");
    }
}
