using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank.Cli;

/// <summary>Reading the matrices a command works on, by file type, through the facade's readers.</summary>
internal static class Inputs
{
    private static readonly string[] VideoExtensions = [".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".ogv"];

    private const string Accepted =
        "a .npy file (2-D, or a 3-D stack), a folder of .npy files, an IDX file (.idx, -ubyte or .gz), the Fashion-MNIST "
        + "folder that scripts/fetch-data.sh writes (read as matrices of images), a .csv file, "
        + "or a video (.avi, .mp4, .mkv, ...; needs ffmpeg)";

    /// <summary>What scripts/fetch-data.sh writes under data/ (its README lists the same).</summary>
    private static readonly string[] Fetched = ["data/vtest.npy", "data/vtest.avi", "data/fashion-mnist", "data/text/", "data/models/"];

    /// <summary>The one line for a missing input: a file that scripts/fetch-data.sh writes says to run it.</summary>
    public static string Missing(string argument, string path, string expected)
    {
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.GetFullPath(path)).Replace('\\', '/');
        return Fetched.Any(f => relative.StartsWith(f, StringComparison.Ordinal))
            ? $"{argument}: '{path}' does not exist; scripts/fetch-data.sh writes it: run that first (from the repository root)."
            : $"{argument}: '{path}' does not exist; {expected}.";
    }

    /// <summary>A stack of matrices (a training or test set), optionally sliced by a NumPy-style start:stop:step.</summary>
    public static Matrix<double>[] ReadStack(string path, string? select, string argument)
    {
        // A video is decoded only up to the selection's stop when that is known (start:stop:step with step > 0 and
        // stop >= 0), since decoding and holding all frames is what costs.
        if (select is not null && File.Exists(path) && VideoExtensions.Contains(Path.GetExtension(path).ToLowerInvariant()))
            return Slice(Video.Read(path, VideoPixels.Gray, FramesNeeded(select)), select);

        // A C-order .npy stack is read frame by frame, so a selection from a long video loads only its frames.
        if (select is not null && File.Exists(path) && Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase))
        {
            var shape = Npy.Shape(path);
            if (shape.Length == 3)
                return RequireFinite(Npy.ReadStackAt(path, Selected(shape[0], select)), path, argument);
        }

        var all = ReadAll(path, argument);
        return RequireFinite(select is null ? all : Slice(all, select), path, argument);
    }

    /// <summary>Training data: a C-order .npy stack stays in its own dtype (<see cref="MatrixStack.ReadNpy"/>: a uint8
    /// video takes an eighth of its double-precision size, and training converts a few frames at a time); anything else
    /// is read as <see cref="ReadStack"/> reads it. Non-finite values in a stack are reported by training, by index.</summary>
    public static IReadOnlyList<Matrix<double>> ReadTrainingStack(string path, string? select, string argument)
    {
        if (File.Exists(path) && Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase))
        {
            var shape = Npy.Shape(path);
            if (shape.Length == 3)
            {
                var indices = select is null ? Enumerable.Range(0, shape[0]).ToArray() : Selected(shape[0], select);
                return MatrixStack.ReadNpy(path, indices);
            }
        }
        return ReadStack(path, select, argument);
    }

    /// <summary>Names the file and the entry when data holds NaN or infinity, which every command rejects; the library's
    /// own message would name only its parameter.</summary>
    private static Matrix<double>[] RequireFinite(Matrix<double>[] matrices, string path, string argument)
    {
        for (var k = 0; k < matrices.Length; k++)
        {
            var values = matrices[k].AsColumnMajorArray() ?? matrices[k].ToColumnMajorArray();
            var p = FirstNonFinite(values);
            if (p >= 0)
            {
                var rows = matrices[k].RowCount;
                var where = matrices.Length == 1 ? "" : $"matrix {k}, ";
                throw new ArgumentException(
                    $"{argument}: '{path}' has a value that is not finite ({where}row {p % rows}, column {p / rows}: {values[p]}).");
            }
        }
        return matrices;
    }

    /// <summary>A 2-D .npy file (without --select) read as it lies, by rows: its transpose A^T (d x n) in column-major
    /// storage, which the library's *Transposed functions take (no transposition of a C-order file).</summary>
    public static bool ReadsByRows(string path, string? select) =>
        select is null && File.Exists(path) && Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase)
        && Npy.Shape(path).Length == 2;

    /// <summary>Names the file and A's row and column when A^T (as <see cref="ReadsByRows"/> reads it) holds NaN or
    /// infinity; returns when every entry is finite.</summary>
    public static void RequireFiniteTransposed(Matrix<double> transposed, string path, string argument)
    {
        var values = transposed.AsColumnMajorArray();
        var p = FirstNonFinite(values);
        if (p >= 0)
            throw new ArgumentException(
                $"{argument}: '{path}' has a value that is not finite (row {p / transposed.RowCount}, column {p % transposed.RowCount}: {values[p]}).");
    }

    /// <summary>The index of the first value that is not finite, or -1: a vector pass on every core (x - x is 0 exactly
    /// for finite x; a delegate per entry took 0.1 s on 61 million), then a scan of the first chunk that failed.</summary>
    private static int FirstNonFinite(double[] values)
    {
        const int chunk = 1 << 18;
        var chunks = (values.Length + chunk - 1) / chunk;
        var failed = new bool[chunks];
        System.Threading.Tasks.Parallel.For(0, chunks, c =>
        {
            var span = values.AsSpan(c * chunk, Math.Min(chunk, values.Length - c * chunk));
            var sum = System.Numerics.Vector<double>.Zero;
            var i = 0;
            for (; i <= span.Length - System.Numerics.Vector<double>.Count; i += System.Numerics.Vector<double>.Count)
            {
                var v = new System.Numerics.Vector<double>(span[i..]);
                sum += v - v;
            }
            var tail = 0.0;
            for (; i < span.Length; i++)
                tail += span[i] - span[i];
            failed[c] = !(System.Numerics.Vector.EqualsAll(sum, System.Numerics.Vector<double>.Zero) && tail == 0.0);
        });
        var first = Array.IndexOf(failed, true);
        return first < 0 ? -1 : Array.FindIndex(values, first * chunk, v => !double.IsFinite(v));
    }

    private static Matrix<double>[] ReadAll(string path, string argument)
    {
        if (Directory.Exists(path) && ImageGroups.IsImageFolder(path))
            return ImageGroups.Read(path);
        if (Directory.Exists(path))
        {
            var files = Directory.GetFiles(path, "*.npy").OrderBy(file => file, StringComparer.Ordinal).ToArray();
            if (files.Length == 0)
                throw new ArgumentException($"{argument}: the folder '{path}' has no .npy file.");
            return files.SelectMany(ReadNpy).ToArray();
        }

        if (!File.Exists(path))
            throw new FileNotFoundException(Missing(argument, path, $"expected {Accepted}"), path);

        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".npy")
            return ReadNpy(path);
        if (extension is ".idx" or ".gz" || path.EndsWith("-ubyte", StringComparison.Ordinal))
            return Idx.ReadStack(path);
        if (extension == ".csv")
            return [Csv.ReadMatrix(path)];
        if (VideoExtensions.Contains(extension))
            return Video.Read(path);
        throw new ArgumentException($"{argument}: cannot read '{path}'; expected {Accepted}.");
    }

    /// <summary>How many leading frames a selection can touch, or 0 (all) when that depends on the count.</summary>
    internal static int FramesNeeded(string select)
    {
        var slice = ParseSlice(select);
        if (slice.Single)
            return slice.Start is int index and >= 0 ? index + 1 : 0;
        return (slice.Step ?? 1) > 0 && slice.Stop is int stop and >= 0 ? stop : 0;
    }

    private static Matrix<double>[] ReadNpy(string path) =>
        Npy.Shape(path).Length == 3 ? Npy.ReadStack(path) : [Npy.ReadMatrix(path)];

    /// <summary>Fails before any work when the folder that is to receive <paramref name="path"/> does not exist.</summary>
    public static void RequireFolderOf(string path, string argument)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder))
            throw new ArgumentException($"{argument}: the folder '{folder}' of '{path}' does not exist; create it first.");
    }

    /// <summary>One matrix: a 2-D .npy or a .csv file, or the one matrix that --select picks from a stack.</summary>
    public static Matrix<double> ReadMatrix(string path, string argument, string? select = null)
    {
        var all = ReadStack(path, select, argument);
        if (all.Length != 1)
            throw new ArgumentException(
                $"{argument}: expected one matrix, but '{path}' holds {all.Length}; pick one with --select (e.g. --select 0)."
            );
        return all[0];
    }

    /// <summary>NumPy slicing of the stack's first axis: "start:stop:step", each part optional, negatives counting
    /// from the end ("0:400:4", "400:", "-16:", "::10"); a single index "7" selects one matrix.</summary>
    public static Matrix<double>[] Slice(Matrix<double>[] all, string select) =>
        Selected(all.Length, select).Select(i => all[i]).ToArray();

    private static int[] Selected(int count, string select)
    {
        var indices = SliceIndices(count, select);
        if (indices.Length == 0)
            throw new ArgumentException($"--select: '{select}' selects none of the {count} matrices.");
        return indices;
    }

    /// <summary>The parts of a --select text: an index (Single, in Start) or start:stop:step, each part optional.</summary>
    private sealed record SliceParts(bool Single, int? Start, int? Stop, int? Step);

    private static SliceParts ParseSlice(string select)
    {
        var parts = select.Split(':');
        int? Part(int index)
        {
            if (index >= parts.Length || parts[index].Trim().Length == 0)
                return null;
            if (int.TryParse(parts[index].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
                return value;
            throw new ArgumentException(
                $"--select: expected start:stop:step with integer parts (like 0:400:4), but got '{select}'."
            );
        }

        if (parts.Length > 3)
            throw new ArgumentException($"--select: expected at most start:stop:step, but got '{select}'.");
        if (parts.Length == 1)
            return new SliceParts(
                true,
                Part(0) ?? throw new ArgumentException("--select: expected an index or start:stop:step, but got ''."),
                null,
                null
            );
        return new SliceParts(false, Part(0), Part(1), Part(2));
    }

    public static int[] SliceIndices(int count, string select)
    {
        var slice = ParseSlice(select);
        if (slice.Single)
        {
            var single = slice.Start!.Value;
            var index = single < 0 ? count + single : single;
            if (index < 0 || index >= count)
                throw new ArgumentException($"--select: index {single} is outside the {count} matrices.");
            return [index];
        }

        var step = slice.Step ?? 1;
        if (step == 0)
            throw new ArgumentException($"--select: the step must not be 0 (in '{select}').");

        // Python's rules: clamp to [0, count] (or [-1, count - 1] going backwards).
        int Resolve(int? value, int whenMissing, int low, int high)
        {
            if (value is not int v)
                return whenMissing;
            if (v < 0)
                v += count;
            return Math.Clamp(v, low, high);
        }

        var indices = new List<int>();
        if (step > 0)
        {
            var start = Resolve(slice.Start, 0, 0, count);
            var stop = Resolve(slice.Stop, count, 0, count);
            for (var i = start; i < stop; i += step)
                indices.Add(i);
        }
        else
        {
            var start = Resolve(slice.Start, count - 1, -1, count - 1);
            var stop = Resolve(slice.Stop, -1, -1, count - 1);
            for (var i = start; i > stop; i += step)
                indices.Add(i);
        }

        return indices.ToArray();
    }
}
