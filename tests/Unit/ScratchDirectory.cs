using System;
using System.IO;

namespace LowRank.Unit;

/// <summary>A fresh temporary directory per test, deleted afterwards, for tests that write files.</summary>
public abstract class ScratchDirectory : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("lowrank-test-").FullName;

    /// <summary>A path inside the scratch directory.</summary>
    protected string Scratch(string name) => Path.Combine(root, name);

    public void Dispose()
    {
        Directory.Delete(root, recursive: true);
        GC.SuppressFinalize(this);
    }
}
