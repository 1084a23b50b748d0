using System;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>Conversions shared by the facade's <c>double[,]</c> overloads.</summary>
internal static class Matrices
{
    /// <summary>Copies a rectangular array into a dense matrix, naming the argument when it is null.</summary>
    internal static Matrix<double> Of(double[,]? array, string name) =>
        array is null
            ? throw new ArgumentNullException(name, $"Expected a value for {name}, but it was null.")
            : Matrix<double>.Build.DenseOfArray(array);
}
