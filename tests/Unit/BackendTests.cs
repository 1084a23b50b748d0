using System;
using Xunit;

namespace LowRank.Unit;

/// <summary>
/// Backend selection as configured by the environment of this run: .ci/run runs the suite once with
/// LOWRANK_BACKEND=native and once with no native library at all (LOWRANK_NATIVE_DISABLE=1). Nothing here switches the
/// process-wide backend, so the rest of the suite keeps running on the configured one.
/// </summary>
public class BackendTests
{
    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name);

    [Fact]
    public void Backend_Describe_StartsWithTheKindInUse()
    {
        var prefix = Backend.Current == BackendKind.Native ? "native: " : "managed: ";
        Assert.StartsWith(prefix, Backend.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Backend_IsNative_WhenTheEnvironmentAsksForIt()
    {
        if (Variable("LOWRANK_BACKEND") != "native")
        {
            return; // the assertion is about runs configured for native
        }

        Assert.Equal(BackendKind.Native, Backend.Current);
        Assert.Matches("lib(open)?blas", Backend.Describe());
    }

    [Fact]
    public void Backend_FallsBackToManaged_WhenNoNativeLibraryLoads()
    {
        if (Variable("LOWRANK_NATIVE_DISABLE") != "1" || Variable("LOWRANK_BACKEND") is { Length: > 0 })
        {
            return; // the assertion is about runs without a native library and without an explicit choice
        }

        Assert.False(Backend.IsNativeAvailable);
        Assert.Equal(BackendKind.Managed, Backend.Current);
        var error = Assert.Throws<InvalidOperationException>(() => Backend.Select(BackendKind.Native));
        Assert.Contains("libopenblas.so.0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backend_Select_Throws_WhenKindIsUndefined()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Backend.Select((BackendKind)7));
        Assert.Equal("kind", error.ParamName);
        Assert.Contains("kind = 7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backend_Select_KeepsTheCurrentKind_WhenSelectedAgain()
    {
        var kind = Backend.Current;
        Backend.Select(kind);
        Assert.Equal(kind, Backend.Current);
    }

    [Fact]
    public void Backend_SetNativeThreads_Throws_WhenCountIsNotPositive() =>
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => Backend.SetNativeThreads(0)).ParamName);
}
