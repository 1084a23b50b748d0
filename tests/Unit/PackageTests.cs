using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection.Metadata;
using System.Xml.Linq;
using LowRank.Tests;
using Xunit;

namespace LowRank.Unit;

/// <summary>What a user of the packages gets: `dotnet pack LowRank.sln` as the README says, then a fresh console app
/// outside the repository, with only that folder as its feed, installs LowRank by `dotnet add package` and builds
/// with nullable warnings as errors; every package carries licence, readme and release notes, and its symbols have no
/// path of this machine and the sources embedded.</summary>
// Builds the repository's projects: never at the same time as another test that does (MSBuild would race on obj/).
[Collection(nameof(BuildsTheRepository))]
public class PackageTests : ScratchDirectory
{
    private static string Run(string arguments, string folder)
    {
        var (exitCode, output) = DotnetProcess.Run(arguments, folder);
        Assert.True(exitCode == 0, $"dotnet {arguments} (in {folder}) exited with {exitCode}:\n{output}");
        return output;
    }

    private static readonly Guid EmbeddedSource = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    /// <summary>The one version of every package, as Directory.Build.props states it.</summary>
    private static readonly string StatedVersion =
        XDocument.Load(RepositoryFiles.PathOf("Directory.Build.props")).Descendants("Version").Single().Value;

    [Fact]
    public void ThePackages_InstallIntoAFreshConsoleApp_AndShipLicenceReadmeAndPathFreeSymbols()
    {
        var feed = Scratch("feed");
        Run($"pack LowRank.sln -o \"{feed}\"", RepositoryFiles.Root);

        foreach (var id in new[] { "LowRank", "LowRank.Core", "LowRank.Testing", "LowRank.Mpi", "LowRank.Onnx", "LowRank.Cli" })
        {
            var package = Directory.GetFiles(feed, $"{id}.0*.nupkg").Single();
            using (var zip = ZipFile.OpenRead(package))
            {
                var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
                string Field(string name) => nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
                Assert.Equal("MIT", Field("license"));
                Assert.Equal("README.md", Field("readme"));
                Assert.False(string.IsNullOrWhiteSpace(Field("releaseNotes")), $"{id}: release notes");
                Assert.DoesNotContain("Package Description", Field("description"));
                // The version Directory.Build.props states: stable, so `dotnet add package` takes it without --prerelease.
                Assert.Equal(StatedVersion, Field("version"));
                foreach (var file in new[] { "README.md", "LICENSE", "CHANGELOG.md" })
                    Assert.Contains(zip.Entries, e => e.FullName == file);
                // Its own readme, which NuGet shows: no link into the repository, which a package reader does not have.
                using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
                var text = readme.ReadToEnd();
                Assert.Equal(File.ReadAllText(RepositoryFiles.PathOf($"docs/packages/{id}.md")), text);
                Assert.DoesNotMatch(@"\]\((?!https?:)[^)]+\)", text);
            }

            using var symbols = ZipFile.OpenRead(Path.ChangeExtension(package, ".snupkg"));
            foreach (var pdb in symbols.Entries.Where(e => e.FullName.EndsWith(".pdb", StringComparison.Ordinal)))
            {
                using var copy = new MemoryStream();
                using (var stream = pdb.Open())
                    stream.CopyTo(copy);
                copy.Position = 0;
                using var provider = MetadataReaderProvider.FromPortablePdbStream(copy);
                var reader = provider.GetMetadataReader();
                var documents = reader.Documents.Select(h => (Handle: h, Name: reader.GetString(reader.GetDocument(h).Name))).ToList();
                Assert.NotEmpty(documents);
                Assert.All(documents, d => Assert.StartsWith("/_/", d.Name));
                Assert.All(documents, d => Assert.DoesNotContain(RepositoryFiles.Root, d.Name));
                // Each source file is in the pdb itself.
                var embedded = reader.CustomDebugInformation
                    .Select(reader.GetCustomDebugInformation)
                    .Where(c => reader.GetGuid(c.Kind) == EmbeddedSource)
                    .Select(c => (DocumentHandle)c.Parent)
                    .ToHashSet();
                Assert.All(documents.Where(d => d.Name.EndsWith(".fs", StringComparison.Ordinal) || d.Name.EndsWith(".cs", StringComparison.Ordinal)),
                    d => Assert.Contains(d.Handle, embedded));
            }
        }

        // A user's console app per package: only the folder feed (dependencies come from the machine's package cache), its
        // Program.cs the C# example of that package's readme. The facade's runs; the others need a model or mpirun and
        // are compiled.
        string App(string id)
        {
            var app = Scratch($"app-{id}");
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(app, "nuget.config"),
                $"<configuration><packageSources><clear /><add key=\"local\" value=\"{feed}\" /></packageSources></configuration>");
            File.WriteAllText(Path.Combine(app, "App.csproj"), """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                  </PropertyGroup>
                </Project>
                """);
            var example = DocBlocks.Of(DocBlocks.Text($"docs/packages/{id}.md"), "csharp").FirstOrDefault();
            Assert.True(example is not null, $"docs/packages/{id}.md has no C# example");
            File.WriteAllText(Path.Combine(app, "Program.cs"), example);
            // No --prerelease: the stated version is a stable one.
            Run($"add package {id}", app);
            Run("build", app);
            return app;
        }

        var output = Run("run --no-build", App("LowRank"));
        Assert.Matches(@"SCW \d+\.\d+ >= optimum \d+\.\d+ \(\w", output);
        Assert.Matches(@"svd_w weighted loss \d+\.\d+ in \d+ numbers", output);
        App("LowRank.Onnx");
        App("LowRank.Mpi");

        // The tool: at most a third of the 80 MB it was when it carried every platform's native libraries (issue 27), and
        // installed from the feed it runs ONNX Runtime (compress-model --evaluate) and draws a chart with SkiaSharp.
        var tool = Directory.GetFiles(feed, "LowRank.Cli.0*.nupkg").Single();
        Assert.True(new FileInfo(tool).Length <= 80_000_000 / 3, $"the tool package is {new FileInfo(tool).Length} bytes");
        var tools = Scratch("tools");
        Run($"tool install --tool-path \"{tools}\" --add-source \"{feed}\" LowRank.Cli", Scratch(""));
        var model = OnnxGraphs.Save(OnnxGraphs.Text(), Scratch(""), "text.onnx");
        var texts = Scratch("texts.txt");
        File.WriteAllLines(texts, OnnxModelTests.Sentences);
        var vocabulary = OnnxGraphs.SaveVocabulary(Scratch(""));
        var (code, compressed) = DotnetProcess.Start(Path.Combine(tools, "lowrank"),
            $"compress-model \"{model}\" -m svd -p 0.6 --vocab \"{vocabulary}\" --evaluate \"{texts}\" -o \"{Scratch("small.onnx")}\"", Scratch(""));
        Assert.True(code == 0, compressed);
        Assert.Contains("cosine to original", compressed);
        var (chartCode, chart) = DotnetProcess.Start(Path.Combine(tools, "lowrank"),
            $"reproduce weighted-synthetic --quick --out \"{Scratch("chart")}\"", Scratch(""));
        Assert.True(chartCode == 0, chart);
        Assert.True(new FileInfo(Path.Combine(Scratch("chart"), "loss.png")).Length > 10_000);
    }
}

/// <summary>The xunit collection of tests that run MSBuild on the repository's projects, so they run one at a time.</summary>
[CollectionDefinition(nameof(BuildsTheRepository))]
public sealed class BuildsTheRepository;
