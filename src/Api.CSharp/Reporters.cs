using System;
using Microsoft.FSharp.Core;

namespace LowRank;

/// <summary>The one way the facade passes progress to the core: an <see cref="IProgress{T}"/> (or none) becomes the
/// core's report function, converting each core record to the facade's own type, so no F# type reaches a caller.</summary>
internal static class Reporters
{
    public static FSharpFunc<TCore, Unit> Of<TCore, T>(IProgress<T>? progress, Func<TCore, T> convert) =>
        FuncConvert.FromAction<TCore>(p => progress?.Report(convert(p)));
}
