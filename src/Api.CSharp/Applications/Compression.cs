using System;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>A compressed layer A~ = Left Right with the objective its method minimised.</summary>
public sealed class CompressedLayer
{
    private readonly Core.CompressedLayer core;

    internal CompressedLayer(Core.CompressedLayer core) => this.core = core;

    /// <summary>"data-aware", "data-and-weights" or "two-sided".</summary>
    public string Method => core.Method;

    /// <summary>n x k (the result's own matrix: treat it as read-only).</summary>
    public Matrix<double> Left => core.Left;

    /// <summary>k x d (the result's own matrix: treat it as read-only).</summary>
    public Matrix<double> Right => core.Right;

    /// <summary>The rank k.</summary>
    public int Rank => core.Rank;

    /// <summary>Numbers stored: (n + d) k.</summary>
    public int Parameters => core.Parameters;

    /// <summary>The minimised objective ||C_l^(1/2) (A - A~) R||_F at the result.</summary>
    public double Objective => core.Objective;

    /// <summary><see cref="Objective"/> divided by its value at A~ = 0.</summary>
    public double RelativeObjective => core.RelativeObjective;

    /// <summary>The ridge lambda that was added to the input covariance's eigenvalues.</summary>
    public double Ridge => core.Ridge;

    /// <summary>The dense n x d approximation.</summary>
    /// <returns>A new matrix.</returns>
    public Matrix<double> ToMatrix() => core.ToMatrix();

    /// <summary>The dense n x d approximation as an array.</summary>
    /// <returns>A new array.</returns>
    public double[,] ToArray() => core.ToMatrix().ToArray();
}

/// <summary>
/// Compressing a linear layer y = x A (A: inputs n x outputs d) to rank k with what the layer sees: its inputs'
/// covariance (data-aware), the Fisher weights too (data-and-weights), or the loss gradient's covariance at its outputs
/// (two-sided, the Kronecker-factored Fisher; the recommended method when gradients are at hand). Each is the closed form
/// A~ = C^(-1/2) [C^(1/2) A R]_k R^(-1). Elementwise weights alone are <see cref="Wlra"/>'s problem.
/// </summary>
public static class Compression
{
    /// <summary>C = X^T X / N, the second moment of a layer's inputs X (N x n, an example per row).</summary>
    /// <param name="inputs">X, finite.</param>
    /// <returns>C (n x n).</returns>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> is empty or not finite.</exception>
    public static Matrix<double> InputCovariance(Matrix<double> inputs) => Core.Compression.InputCovariance(inputs);

    /// <summary>
    /// Data-aware compression: the rank-k A~ minimising tr((A - A~)^T (C + lambda I) (A - A~)), the mean squared change
    /// ||X (A - A~)||_F^2 / N of the layer's outputs plus lambda ||A - A~||_F^2.
    /// </summary>
    /// <param name="layer">A (n x d).</param>
    /// <param name="covariance">C (n x n), from <see cref="InputCovariance"/>.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="ridge">lambda relative to tr(C)/n, &gt; 0; keeps a singular C (inputs always 0) stable.</param>
    /// <returns>Rank-k factors with the objective; O(n^3 + n^2 d).</returns>
    /// <exception cref="ArgumentException">A matrix is empty or not finite, or the shapes disagree.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> or <paramref name="ridge"/> is out of range.</exception>
    public static CompressedLayer DataAware(Matrix<double> layer, Matrix<double> covariance, int rank, double ridge = 1e-4) =>
        new(Core.Compression.DataAware(ridge, rank, covariance, layer));

    /// <summary>
    /// Inputs and elementwise weights: the rank-k A~ minimising ||C_l^(1/2) (A - A~) diag(g)||_F, with g_b^2 the
    /// least-squares fit of W_ab^2 ~ C_aa g_b^2.
    /// </summary>
    /// <param name="layer">A (n x d).</param>
    /// <param name="covariance">C (n x n).</param>
    /// <param name="weights">W (n x d), e.g. the square root of the empirical Fisher.</param>
    /// <param name="rank">k.</param>
    /// <param name="ridge">As for <see cref="DataAware"/>; also floors g_b^2 at ridge times its largest value.</param>
    /// <returns>Rank-k factors; O(n^3 + n^2 d).</returns>
    /// <exception cref="ArgumentException">As for <see cref="DataAware"/>, or the weights differ in shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> or <paramref name="ridge"/> is out of range.</exception>
    public static CompressedLayer DataAndWeights(
        Matrix<double> layer,
        Matrix<double> covariance,
        Weights weights,
        int rank,
        double ridge = 1e-4
    ) => new(Core.Compression.DataAndWeights(ridge, rank, covariance, Weights.CoreOf(weights), layer));

    /// <summary>
    /// The Kronecker-factored Fisher (K-FAC): the rank-k A~ minimising ||C_l^(1/2) (A - A~) G_l^(1/2)||_F with C the
    /// inputs' and G the output gradient's second moment (<see cref="Mlp.OutputGradientCovariance"/>).
    /// </summary>
    /// <param name="layer">A (n x d).</param>
    /// <param name="inputCovariance">C (n x n).</param>
    /// <param name="outputCovariance">G (d x d).</param>
    /// <param name="rank">k.</param>
    /// <param name="ridge">lambda relative to each covariance's mean eigenvalue, &gt; 0.</param>
    /// <returns>Rank-k factors; O(n^3 + d^3 + n^2 d).</returns>
    /// <exception cref="ArgumentException">A matrix is empty or not finite, or the shapes disagree.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> or <paramref name="ridge"/> is out of range.</exception>
    public static CompressedLayer TwoSided(
        Matrix<double> layer,
        Matrix<double> inputCovariance,
        Matrix<double> outputCovariance,
        int rank,
        double ridge = 1e-4
    ) => new(Core.Compression.TwoSided(ridge, rank, inputCovariance, outputCovariance, layer));

    /// <summary>
    /// The squared singular values of C_l^(1/2) A, descending: sigma_(i+1)^2 is the drop of <see cref="DataAware"/>'s
    /// squared objective from rank i to i + 1, so it predicts a layer's output error at every rank (the input of
    /// <see cref="ModelBudget.Allocate"/>).
    /// </summary>
    /// <param name="layer">A (n x d).</param>
    /// <param name="covariance">C (n x n).</param>
    /// <param name="ridge">lambda relative to tr(C)/n, &gt; 0.</param>
    /// <returns>min(n, d) values summing to tr(A^T C_l A); O(n^3 + n^2 d).</returns>
    /// <exception cref="ArgumentException">A matrix is empty or not finite, or the shapes disagree.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ridge"/> is out of range.</exception>
    public static double[] WhitenedSpectrum(Matrix<double> layer, Matrix<double> covariance, double ridge = 1e-4) =>
        Core.Compression.WhitenedSpectrum(ridge, covariance, layer);

    /// <summary>
    /// Sequential (output-matching) compression: the rank-k A~ minimising ||X A - X' A~||_F^2 / N + lambda ||A - A~||_F^2,
    /// with X the layer's inputs in the original model and X' in the model whose earlier layers are compressed, so the
    /// layer corrects what they changed (SVD-LLM's update step, in closed form):
    /// A~ = C'_l^(-1/2) [C'_l^(-1/2) (M + lambda I) A]_k; with X' = X it is <see cref="DataAware"/>.
    /// </summary>
    /// <param name="layer">A (n x d).</param>
    /// <param name="covariance">C = X^T X / N (n x n).</param>
    /// <param name="shiftedCovariance">C' = X'^T X' / N (n x n).</param>
    /// <param name="crossCovariance">M = X'^T X / N (n x n).</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="ridge">lambda relative to tr(C')/n, &gt; 0.</param>
    /// <returns>Rank-k factors; the objective ||X A - X' A~||_F / sqrt(N) from the moments; O(n^3 + n^2 d).</returns>
    /// <exception cref="ArgumentException">A matrix is empty or not finite, or the shapes disagree.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> or <paramref name="ridge"/> is out of range.</exception>
    public static CompressedLayer MatchOutputs(
        Matrix<double> layer,
        Matrix<double> covariance,
        Matrix<double> shiftedCovariance,
        Matrix<double> crossCovariance,
        int rank,
        double ridge = 1e-4
    ) => new(Core.Compression.MatchOutputs(ridge, rank, covariance, shiftedCovariance, crossCovariance, layer));

    /// <summary>
    /// Row-weighted compression of a table (an embedding, a row per token): the rank-k A~ minimising ||diag(w) (A - A~)||_F,
    /// svd_w with rank-one weights w 1^T (optimal by Woodruff and Yasuda's Theorem 1.2), computed as A V_k V_k^T with V_k
    /// from the SVD of diag(w) A, so rows of weight 0 are projected too.
    /// </summary>
    /// <param name="layer">A (n x d).</param>
    /// <param name="rowWeights">w, n finite values &gt;= 0, not all 0 (e.g. sqrt of token frequencies).</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
    /// <returns>Left = A V_k, Right = V_k^T; O(n d min(n, d)).</returns>
    /// <exception cref="ArgumentException">The layer is empty or not finite, or the weights are invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> is out of range.</exception>
    public static CompressedLayer RowWeighted(Matrix<double> layer, double[] rowWeights, int rank) =>
        new(Core.Compression.RowWeighted(rank, rowWeights, layer));
}
