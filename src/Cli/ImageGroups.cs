using System;
using System.IO;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank.Cli;

/// <summary>
/// An image data set in IDX form (Fashion-MNIST as scripts/fetch-data.sh writes it) read as a stack of matrices, the
/// second data set of the learned-sketch experiments. Matrix i holds images 100 i, ..., 100 i + 99 as its columns, one
/// row per pixel (784 x 100, values / 255): a sketch S (m x 784) then combines pixels, whose roles are the same in
/// every matrix (the garment is centred, the border is dark), as S combines a video's pixel rows; rows of images would
/// be exchangeable and give a learned sketch nothing to learn. The training images come first (matrices 0-599 of
/// Fashion-MNIST), then the test images (600-699), so the experiments' default selections 0:600 and 600: train on
/// the data set's training split and test on its test split.
/// </summary>
internal static class ImageGroups
{
    /// <summary>Images per matrix: the matrices' columns.</summary>
    public const int ImagesPerMatrix = 100;

    private static readonly string[] Sets = ["train", "t10k"];

    private static string ImagesOf(string folder, string set) => Path.Combine(folder, $"{set}-images-idx3-ubyte.gz");

    /// <summary>Whether `folder` holds both image files of the training and the test split.</summary>
    public static bool IsImageFolder(string folder) => Array.TrueForAll(Sets, set => File.Exists(ImagesOf(folder, set)));

    /// <summary>The training split's matrices, then the test split's; images beyond a multiple of 100 are left out.</summary>
    public static Matrix<double>[] Read(string folder)
    {
        var matrices = new System.Collections.Generic.List<Matrix<double>>();
        foreach (var set in Sets)
        {
            var images = Idx.ReadRows(ImagesOf(folder, set)); // one image per row
            for (var start = 0; start + ImagesPerMatrix <= images.RowCount; start += ImagesPerMatrix)
                matrices.Add(images.SubMatrix(start, ImagesPerMatrix, 0, images.ColumnCount).Transpose() / 255.0);
        }
        return matrices.ToArray();
    }
}
