using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>Generated data sets with the structure of the paper's experiments, fixed by a seed.</summary>
public static class Synthetic
{
    /// <summary>
    /// Frames of a video-like sequence on the 0..255 scale: a slowly changing rank-4 background, three moving
    /// rectangles (sparse foreground) and Gaussian noise of standard deviation 2, like the video frames that Indyk,
    /// Vakilian and Yuan (2019, Section 5) train and test sketches on.
    /// </summary>
    /// <remarks>
    /// Frame t is sum_q a_q(t) u_q v_q^T (smooth nonnegative profiles, weights 100, 40, 20, 10 varying by 20% over
    /// periods of 150 to 400 frames), plus rectangles of height/5 x width/12 moving 1 to 3 pixels a frame, plus noise.
    /// Cost O(frames height width). Consecutive frames are close, so the first frames suit training and later ones
    /// testing.
    /// </remarks>
    /// <param name="frames">How many frames, at least 1.</param>
    /// <param name="height">Rows of each frame, at least 1.</param>
    /// <param name="width">Columns of each frame, at least 1.</param>
    /// <param name="seed">Fixes everything random.</param>
    /// <returns><paramref name="frames"/> matrices of height x width.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">A size is below 1.</exception>
    public static Matrix<double>[] VideoLike(int frames, int height, int width, int seed) =>
        Core.Synthetic.VideoLike(seed, frames, height, width);

    /// <summary>
    /// A weighted low-rank problem with weights of rank r (Woodruff and Yasuda 2024, Theorem 1.2's setting): A is a
    /// rank-20 signal plus noise whose standard deviation 1 / W_ij differs by row and by column, and W, the square root of
    /// the noise's precision, is a sum of r positive outer products, so the weighted loss is the negative log-likelihood.
    /// </summary>
    /// <param name="rows">n, at least 1.</param>
    /// <param name="columns">d, at least 1.</param>
    /// <param name="weightRank">r, at least 1.</param>
    /// <param name="seed">Fixes everything random.</param>
    /// <returns>A and W, both n x d, W positive.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">A size or the rank is below 1.</exception>
    public static (Matrix<double> A, Matrix<double> W) WeightedProblem(int rows, int columns, int weightRank, int seed)
    {
        var problem = Core.Synthetic.WeightedProblem(seed, rows, columns, weightRank);
        return (problem.Item1, problem.Item2);
    }

    /// <summary>
    /// Matrices that a sketch with rows L (m x n) cannot see (Theorem 1 of Indyk, Vakilian and Yuan 2019): A = P B plus a
    /// decoy in L's row space of norm 1e-3 ||P B||_F, with P = I - L^+ L and B a rank-k Gaussian signal plus noise
    /// sqrt(k) times a Gaussian matrix. SCW with L sees only the decoy; a sketch with random rows sees P B.
    /// </summary>
    /// <param name="sketchRows">L (m x n): the sketch as a matrix, <c>sketch.Apply(I_n)</c>; finite, not all 0.</param>
    /// <param name="rank">k, at least 1.</param>
    /// <param name="columns">d, at least 1.</param>
    /// <param name="noises">The noise levels, finite and &gt;= 0 (at least one).</param>
    /// <param name="count">Matrices per noise level, at least 1.</param>
    /// <param name="seed">Fixes every Gaussian.</param>
    /// <returns>For each noise level, <paramref name="count"/> n x d matrices.</returns>
    /// <exception cref="System.ArgumentException"><paramref name="sketchRows"/> is empty, zero or not finite, or a noise
    /// level is negative or not finite, or there is none.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">A count or size is below 1.</exception>
    public static Matrix<double>[][] HiddenFrom(Matrix<double> sketchRows, int rank, int columns, double[] noises, int count, int seed) =>
        Core.Synthetic.HiddenFrom(seed, count, noises, rank, columns, sketchRows);
}
