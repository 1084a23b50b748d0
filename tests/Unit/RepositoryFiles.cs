using System;
using System.IO;

namespace LowRank.Unit;

/// <summary>Finds files of the repository from the test's output folder, whatever the working directory.</summary>
internal static class RepositoryFiles
{
    internal static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "LowRank.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException($"No LowRank.sln above {AppContext.BaseDirectory}.");
        }
    }

    internal static string PathOf(string relative) => Path.Combine(Root, relative);
}
