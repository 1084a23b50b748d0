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
}
