using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using MathNet.Numerics.LinearAlgebra;
using Xunit;
using Xunit.Abstractions;

namespace LowRank.Unit;

/// <summary>
/// A mutation fuzzer for every file format LowRank reads (.npy, sketch files, training checkpoints, protocol messages):
/// valid files are mutated (bit flips, byte overwrites, extreme 32-bit fields, truncation, insertion, duplication) and
/// each mutant is read with a time limit. The only outcomes allowed are a value or a documented exception, with no hang
/// and no allocation beyond a bound derived from the file's size. LOWRANK_FUZZ_MUTANTS sets the mutants per format
/// (default 500, which CI runs in seconds; benchmarks/README.md records a 10,000-mutant run).
/// </summary>
public class FileFuzzer(ITestOutputHelper output) : ScratchDirectory
{
    private static readonly int MutantsPerFormat =
        int.TryParse(Environment.GetEnvironmentVariable("LOWRANK_FUZZ_MUTANTS"), out var n) && n > 0 ? n : 500;

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    /// <summary>One mutant of `seed`, deterministic in `random`'s state.</summary>
    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = (byte[])seed.Clone();
        var edits = 1 + random.Next(4);
        for (var e = 0; e < edits && bytes.Length > 0; e++)
        {
            var at = random.Next(bytes.Length);
            switch (random.Next(7))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2 when at + 4 <= bytes.Length:
                    int[] extremes = [0, -1, 1, int.MaxValue, int.MinValue, 1 << 30, 65536, -1_000_000];
                    BitConverter.GetBytes(extremes[random.Next(extremes.Length)]).CopyTo(bytes, at);
                    break;
                case 3:
                    bytes = bytes[..at];
                    break;
                case 4:
                    bytes = [.. bytes[..at], (byte)random.Next(256), .. bytes[at..]];
                    break;
                case 5:
                    var length = Math.Min(bytes.Length - at, 1 + random.Next(16));
                    bytes = [.. bytes[..(at + length)], .. bytes[at..(at + length)], .. bytes[(at + length)..]];
                    break;
                default:
                    // The header of a .npy file is text: change a digit of the shape, or a letter of the type.
                    var text = Array.FindIndex(bytes, b => b == (byte)'(' || b == (byte)'<');
                    if (text >= 0 && text + 2 < bytes.Length)
                        bytes[text + 1 + random.Next(2)] = (byte)"0123456789,)f8iu<>|"[random.Next(19)];
                    break;
            }
        }
        return bytes;
    }

    private sealed record Outcome(string Kind, Exception? Error);

    /// <summary>Reads every mutant, asserting each outcome; returns the counts by outcome for the report.</summary>
    private Dictionary<string, int> Fuzz(string format, byte[][] seeds, Func<byte[], object?> read, Func<Exception, bool> documented, int seedOfRun)
    {
        var random = new Random(seedOfRun);
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < MutantsPerFormat; i++)
        {
            var mutant = Mutate(seeds[i % seeds.Length], random);
            var task = Task.Run(() =>
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    read(mutant);
                    return (new Outcome("read", null), GC.GetAllocatedBytesForCurrentThread() - before);
                }
                catch (Exception e)
                {
                    return (new Outcome(e.GetType().Name, e), GC.GetAllocatedBytesForCurrentThread() - before);
                }
            });
            Assert.True(task.Wait(Limit), $"{format} mutant {i} did not finish within {Limit.TotalSeconds} s");
            var (outcome, allocated) = task.Result;
            // Reading may widen bytes to doubles (8x for uint8 .npy data) and keep a copy: 32 bytes per file byte.
            var bound = 32L * mutant.Length + (1L << 20);
            Assert.True(allocated <= bound, $"{format} mutant {i} allocated {allocated} bytes (bound {bound}) and ended in {outcome.Kind}");
            if (outcome.Error is { } error)
                Assert.True(documented(error), $"{format} mutant {i}: undocumented {error.GetType().Name}: {error.Message}");
            counts[outcome.Kind] = counts.GetValueOrDefault(outcome.Kind) + 1;
        }
        output.WriteLine($"{format}: {MutantsPerFormat} mutants: " + string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}")));
        return counts;
    }

    private static bool IsInvalidData(Exception e) => e is InvalidDataException;

    private byte[] NpyBytes(Action<string> write)
    {
        var path = Scratch($"seed{Guid.NewGuid():N}.npy");
        write(path);
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void Npy_Mutants_ReadOrFailWithInvalidData()
    {
        var fixtures = Directory.GetFiles(RepositoryFiles.PathOf("tests/fixtures/npy"), "*.npy").Select(File.ReadAllBytes);
        var seeds = fixtures
            .Append(NpyBytes(p => Npy.WriteMatrix(p, Matrix<double>.Build.Random(6, 5, 1))))
            .Append(NpyBytes(p => Npy.WriteStack(p, [Matrix<double>.Build.Random(3, 4, 2), Matrix<double>.Build.Random(3, 4, 3)])))
            .ToArray();
        var path = Scratch("mutant.npy");
        Fuzz(".npy", seeds, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            var shape = Npy.Shape(path);
            // Every example, flattened (a 0-D mutant must fail there too), then the whole array as a stack or a matrix.
            _ = Npy.ReadExamples(path, 0, shape.Length > 0 ? shape[0] : 0);
            return shape.Length == 3 ? Npy.ReadStack(path) : Npy.ReadMatrix(path);
        }, IsInvalidData, 1);
    }

    [Fact]
    public void SketchFile_Mutants_ReadOrFailWithInvalidData()
    {
        var seeds = new[]
        {
            Sketch.CountSketch(4, 9, 1), Sketch.Gaussian(3, 5, 2),
            Sketch.Stack(Sketch.CountSketch(2, 6, 3), Sketch.Stack(Sketch.Gaussian(2, 6, 4), Sketch.CountSketch(1, 6, 5))),
        }.Select(SketchFile.ToBytes).ToArray();
        var counts = Fuzz("sketch", seeds, SketchFile.FromBytes, IsInvalidData, 2);
        // The CRC-32 catches every mutant that changes a byte: none may decode to another sketch.
        Assert.Equal(0, counts.GetValueOrDefault("read") - Unchanged(seeds, 2));
    }

    /// <summary>How many of the run's mutants equal their seed (a duplication can reproduce it): those read as the seed.</summary>
    private static int Unchanged(byte[][] seeds, int seedOfRun)
    {
        var random = new Random(seedOfRun);
        var same = 0;
        for (var i = 0; i < MutantsPerFormat; i++)
        {
            if (Mutate(seeds[i % seeds.Length], random).AsSpan().SequenceEqual(seeds[i % seeds.Length]))
                same++;
        }
        return same;
    }

    [Fact]
    public void Protocol_Mutants_ReadOrFailWithInvalidData()
    {
        var a = Matrix<double>.Build.Random(12, 8, 1).PointwiseMultiply(Matrix<double>.Build.Random(12, 8, 2).Map(x => x > 0 ? 1.0 : 0.0));
        var w = Weights.RankOne(Enumerable.Repeat(1.0, 12).ToArray(), Enumerable.Range(1, 8).Select(j => (double)j).ToArray());
        var seeds = new[] { Protocol.ToBytes(Protocol.Send(a, w, 2, 3)), Protocol.ToBytes(Protocol.Send(a, w, 1, 8)) };
        var counts = Fuzz("protocol", seeds, Protocol.FromBytes, IsInvalidData, 3);
        Assert.Equal(0, counts.GetValueOrDefault("read") - Unchanged(seeds, 3));
    }

    [Fact]
    public void Checkpoint_Mutants_ResumeOrFailWithInvalidDataOrAMismatch()
    {
        var matrices = Enumerable.Range(0, 3).Select(i => Matrix<double>.Build.Random(10, 7, i + 1)).ToArray();
        var options = Training.Defaults(rank: 2, sketchRows: 4) with { Steps = 3, BatchSize = 2 };
        var checkpoint = Scratch("seed.ckpt");
        Training.Train(matrices, options with { CheckpointPath = checkpoint });
        var seeds = new[] { File.ReadAllBytes(checkpoint) };
        var path = Scratch("mutant.ckpt");
        // A resumed run is cheap here (3 steps at most), so the whole resume is the read.
        Fuzz("checkpoint", seeds, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            return Training.Train(matrices, options with { ResumeFrom = path });
        }, e => e is InvalidDataException || (e is ArgumentException && e.Message.Contains("was written for", StringComparison.Ordinal)), 4);
    }
}
