using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;
using Xunit;

namespace LowRank.Unit;

/// <summary>Every F# interactive script runs with dotnet fsi exactly as the README says, after a Release build and
/// after a Debug build of the library: the scripts #load the loader that the last build wrote.</summary>
// Builds the repository's projects: never at the same time as another test that does (MSBuild would race on obj/).
[Collection(nameof(BuildsTheRepository))]
public class QuickstartScriptTests
{
    private static (int ExitCode, string Output) Dotnet(string arguments) => DotnetProcess.Run(arguments, RepositoryFiles.Root);

    [Fact]
    public void EveryScript_RunsAfterAReleaseAndAfterADebugBuild()
    {
        // Debug last: the test run itself is a Debug build, and leaves the loader as it found it.
        foreach (var configuration in new[] { "Release", "Debug" })
        {
            var build = Dotnet($"build src/Core.FSharp -c {configuration}");
            Assert.True(build.ExitCode == 0, build.Output);
            var loader = File.ReadAllText(RepositoryFiles.PathOf("src/Core.FSharp/obj/LowRank.Core.fsx"));
            Assert.Contains($"/bin/{configuration}/", loader.Replace('\\', '/'));

            var quickstart = Dotnet("fsi scripts/quickstart.fsx");
            Assert.True(quickstart.ExitCode == 0, $"{configuration}: {quickstart.Output}");
            Assert.Matches(@"SCW error \d+\.\d+, optimal rank-10 error \d+\.\d+", quickstart.Output);
            var learned = Regex.Match(quickstart.Output, @"test error: learned (\d+\.\d+), random CountSketch (\d+\.\d+)");
            Assert.True(learned.Success, quickstart.Output);
            Assert.True(
                double.Parse(learned.Groups[1].Value, CultureInfo.InvariantCulture) < double.Parse(learned.Groups[2].Value, CultureInfo.InvariantCulture),
                quickstart.Output);

            var sizes = Dotnet("fsi scripts/protocol-sizes.fsx");
            Assert.True(sizes.ExitCode == 0, $"{configuration}: {sizes.Output}");
            Assert.Matches(@"\| 784 \| 3 \| 60 \| \d+ \| \d+ \|", sizes.Output);

            // The Fashion-MNIST script needs scripts/fetch-data.sh's files, which CI does not fetch.
            if (File.Exists(RepositoryFiles.PathOf("data/fashion-mnist/t10k-images-idx3-ubyte.gz")))
            {
                var fashion = Dotnet("fsi scripts/fashion-weighted.fsx");
                Assert.True(fashion.ExitCode == 0, $"{configuration}: {fashion.Output}");
            }
        }
    }
}
