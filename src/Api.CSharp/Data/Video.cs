using System;
using System.Collections.Generic;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>How the pixels of a decoded video frame become a matrix.</summary>
public enum VideoPixels
{
    /// <summary>One matrix of height x width luma values in [0, 255].</summary>
    Gray = 0,

    /// <summary>
    /// One matrix of height x (3 width): column 3 j + c is channel c (R, G, B) of pixel column j, each in [0, 255].
    /// </summary>
    Rgb = 1,
}

/// <summary>
/// Video frames decoded by the ffmpeg program, which LowRank runs (it is not linked), so any container and codec that
/// ffmpeg reads can be used. The LOWRANK_FFMPEG environment variable overrides the ffmpeg found on the PATH.
/// </summary>
public static class Video
{
    /// <summary>Whether the ffmpeg program that <see cref="Read"/> needs can be found.</summary>
    /// <returns>true when LOWRANK_FFMPEG names an existing file or an "ffmpeg" file is on the PATH.</returns>
    public static bool IsAvailable() => Core.Video.IsAvailable();

    /// <summary>Reads the frames of a video as matrices, streaming them from ffmpeg one at a time.</summary>
    /// <remarks>
    /// Memory holds the matrices only (8 bytes a value: a 768 x 576 grayscale frame is 3.5 MB). When
    /// <paramref name="width"/> is given, ffmpeg's bicubic scaler resizes each frame and the height keeps the aspect ratio.
    /// </remarks>
    /// <param name="path">The video file.</param>
    /// <param name="pixels">Gray (height x width) or Rgb (height x 3 width, interleaved).</param>
    /// <param name="maxFrames">Read at most this many frames from the start; 0 reads all.</param>
    /// <param name="width">Resize each frame to this width; 0 keeps the size.</param>
    /// <returns>The frames, in order, with values in [0, 255].</returns>
    /// <exception cref="System.ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="maxFrames"/> or <paramref name="width"/> is
    /// negative, or <paramref name="pixels"/> is not defined.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.InvalidOperationException">ffmpeg is not installed; the message says how to install it.</exception>
    /// <exception cref="System.IO.InvalidDataException">ffmpeg cannot decode the file or yields no frame; the message
    /// names the file and quotes ffmpeg.</exception>
    public static Matrix<double>[] Read(string path, VideoPixels pixels = VideoPixels.Gray, int maxFrames = 0, int width = 0) =>
        Core.Video.Read((Core.VideoPixels)(int)pixels, maxFrames, width, path);

    /// <summary>Weights that count moving pixels more: W = 1 + s / mean(s), s each pixel's standard deviation over the
    /// frames; all ones when no pixel moves. mean(W) = 2 whenever one does, and W does not change when a constant is added
    /// to every frame or all are scaled by c &gt; 0. For <see cref="Norm.WeightedFrobenius(Matrix{double}, Matrix{double})"/>
    /// and <see cref="TrainingOptions.LossWeights"/>.</summary>
    /// <param name="frames">At least one frame, all of one shape, finite.</param>
    /// <returns>W, of the frames' shape, every entry &gt;= 1; O(frames height width).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frames"/> or a frame is null.</exception>
    /// <exception cref="ArgumentException">There is no frame, the shapes differ, or a value is not finite.</exception>
    public static Matrix<double> MotionWeights(IEnumerable<Matrix<double>> frames) => Core.Video.MotionWeights(frames);
}
