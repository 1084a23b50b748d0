using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace LowRank.Unit;

/// <summary>Reading the docs' code blocks and the tests' marked regions, to keep the two equal: what ReadmeTests,
/// GuideExampleTests, DocsCodeBlockTests and PackageTests compare.</summary>
internal static class DocBlocks
{
    /// <summary>A repository file's text with Unix line ends.</summary>
    public static string Text(string relativePath) => File.ReadAllText(RepositoryFiles.PathOf(relativePath)).Replace("\r\n", "\n");

    /// <summary>The code of every ```language block of a Markdown text, in order.</summary>
    public static string[] Of(string markdown, string language) =>
        Regex.Matches(markdown.Replace("\r\n", "\n"), $"```{language}\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToArray();

    /// <summary>The lines between `// {marker} begin` and `// {marker} end` of a source text; null when there is none.
    /// </summary>
    public static string? Region(string source, string marker)
    {
        var region = Regex.Match(source.Replace("\r\n", "\n"), $"// {marker} begin\n(.*?)// {marker} end", RegexOptions.Singleline);
        return region.Success ? region.Groups[1].Value : null;
    }

    /// <summary>Code compared as lines, indentation and blank lines aside (a block in Markdown against a region indented
    /// in a test method).</summary>
    public static string Lines(string text) =>
        string.Join("\n", text.Replace("\r\n", "\n").Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0));
}
