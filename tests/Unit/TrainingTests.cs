using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>Sketch training from C#: cancellation, checkpoints and resume, rejected steps and bad input.</summary>
public class TrainingTests : ScratchDirectory
{
    // Low rank plus noise, with a heavy block of rows that every matrix shares, so training has something to learn.
    private static Matrix<double> Sample(int seed)
    {
        var left = Matrix<double>.Build.Random(40, 4, 7).MapIndexed((i, _, x) => i < 10 ? 5 * x : 0.3 * x);
        return left * Matrix<double>.Build.Random(4, 30, seed) + 0.1 * Matrix<double>.Build.Random(40, 30, seed + 1000);
    }

    private static readonly Matrix<double>[] TrainingSet = Enumerable.Range(0, 6).Select(Sample).ToArray();

    private static readonly TrainingOptions Options = Training.Defaults(rank: 2, sketchRows: 6) with { Steps = 20, BatchSize = 3, Seed = 5 };

    /// <summary>An IProgress that runs on the training thread, so a test can act at an exact step.</summary>
    private sealed class Synchronous(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }

    [Fact]
    public void Train_StopsCleanly_WhenCancelled_AndReturnsTheBestSketchSoFar()
    {
        using var cancellation = new CancellationTokenSource();
        var progress = new Synchronous(p => { if (p.Step == 3) cancellation.Cancel(); });

        var result = Training.Train(TrainingSet, Options, progress, cancellation.Token);

        Assert.True(result.Cancelled);
        Assert.Equal(3, result.StepsCompleted);
        Assert.Equal(3, result.LossHistory.Count);
        Assert.Equal(result.LossHistory.Min(), result.BestLoss);
        Assert.Equal(40, result.Sketch.Columns);
    }

    [Fact]
    public void Train_ResumedFromACheckpoint_EndsExactlyAsAnUninterruptedRun()
    {
        var uninterrupted = Training.Train(TrainingSet, Options);

        var checkpoint = Scratch("run.ckpt");
        using var cancellation = new CancellationTokenSource();
        var progress = new Synchronous(p => { if (p.Step == 7) cancellation.Cancel(); });
        var interrupted = Training.Train(TrainingSet, Options with { CheckpointPath = checkpoint, CheckpointEvery = 5 }, progress, cancellation.Token);
        Assert.Equal(7, interrupted.StepsCompleted);

        var resumed = Training.Train(TrainingSet, Options with { ResumeFrom = checkpoint });

        Assert.False(resumed.Cancelled);
        Assert.Equal(uninterrupted.LossHistory, resumed.LossHistory);
        Assert.Equal(SketchFile.ToBytes(uninterrupted.Final), SketchFile.ToBytes(resumed.Final));
        Assert.Equal(SketchFile.ToBytes(uninterrupted.Sketch), SketchFile.ToBytes(resumed.Sketch));
    }

    [Fact]
    public void Train_Throws_WhenResumingACheckpointOfOtherOptions()
    {
        var checkpoint = Scratch("run.ckpt");
        Training.Train(TrainingSet, Options with { Steps = 2, CheckpointPath = checkpoint });

        var error = Assert.Throws<ArgumentException>(() => Training.Train(TrainingSet, Options with { Seed = 6, ResumeFrom = checkpoint }));
        Assert.Contains("Seed = 5, but this run has 6", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> ChangedOnResume => new() { "loss", "svd", "normalization", "rate", "data", "decay" };

    [Theory]
    [MemberData(nameof(ChangedOnResume))]
    public void Train_Throws_WhenResumingWithAnyOtherOptionOrData(string changed)
    {
        var checkpoint = Scratch("run.ckpt");
        Training.Train(TrainingSet, Options with { Steps = 2, CheckpointPath = checkpoint });
        var resume = Options with { ResumeFrom = checkpoint };
        var data = TrainingSet;
        resume = changed switch
        {
            "loss" => resume with { Loss = TrainingLoss.VNorm },
            "svd" => resume with { Svd = SvdMethod.PowerMethod },
            "normalization" => resume with { Normalization = Normalization.None },
            "rate" => resume with { LearningRate = Options.LearningRate * 2 },
            "decay" => resume with { DecayFactor = 0.5 },
            _ => resume,
        };
        if (changed == "data")
        {
            data = (Matrix<double>[])TrainingSet.Clone();
            data[3] = Sample(77);
        }

        var error = Assert.Throws<ArgumentException>(() => Training.Train(data, resume));
        Assert.Equal("options", error.ParamName);
        Assert.Contains("was written for", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The checkpoint with its step replaced and its CRC-32 recomputed, as a forger would.</summary>
    private static int StepOffset(byte[] bytes) => 8 + 2 + 18 * 4 + 4 + 4 * BitConverter.ToInt32(bytes, 8 + 2 + 18 * 4);

    private static byte[] WithStep(byte[] bytes, int step)
    {
        // Magic (8), version (2), the fingerprint's 18 int32 entries, the positions (a count, then that many int32),
        // then the step.
        var copy = (byte[])bytes.Clone();
        BitConverter.GetBytes(step).CopyTo(copy, StepOffset(bytes));
        Crc32.Resealed(copy);
        return copy;
    }

    [Fact]
    public void Train_Throws_WhenACheckpointsStepIsNegativeOrBeyondTheRun()
    {
        var checkpoint = Scratch("run.ckpt");
        Training.Train(TrainingSet, Options with { Steps = 2, CheckpointPath = checkpoint });
        var bytes = File.ReadAllBytes(checkpoint);
        Assert.Equal(2, BitConverter.ToInt32(bytes, StepOffset(bytes)));

        File.WriteAllBytes(checkpoint, WithStep(bytes, -1_000_000));
        var negative = Assert.Throws<InvalidDataException>(() => Training.Train(TrainingSet, Options with { ResumeFrom = checkpoint }));
        Assert.Contains("the step = -1000000", negative.Message, StringComparison.Ordinal);

        File.WriteAllBytes(checkpoint, WithStep(bytes, 1_000_000));
        var beyond = Assert.Throws<ArgumentException>(() => Training.Train(TrainingSet, Options with { ResumeFrom = checkpoint }));
        Assert.Contains("step 1000000, beyond this run's options.Steps = 20", beyond.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(5, 1, 1, 2)]
    [InlineData(1, 5, 1, 1)]
    [InlineData(1, 5, 1, 2)]
    public void Train_OnDegenerateShapes_WhereSCWIsExact_RejectsNoStep(int rows, int columns, int rank, int sketchRows)
    {
        // k = rank(A): SCW is exact and the loss is 0, where the Frobenius norm's gradient is the zero subgradient.
        var matrices = Enumerable.Range(1, 6).Select(seed => Matrix<double>.Build.Random(rows, columns, seed)).ToArray();

        var result = Training.Train(matrices, Training.Defaults(rank, sketchRows) with { Steps = 10, BatchSize = 2 });

        Assert.Equal(0, result.RejectedSteps);
        Assert.All(result.LossHistory, loss => Assert.True(loss <= 1e-12, $"loss {loss}"));
    }

    private static readonly Matrix<double>[] LargerSet = Enumerable.Range(0, 20).Select(Sample).ToArray();

    [Fact]
    public void Train_WithValidation_WritesTheSketchWithTheLowestValidationError()
    {
        var options = Options with { Steps = 30, ValidationFraction = 0.1, ValidationEvery = 5 };
        var reports = new System.Collections.Generic.List<TrainingProgress>();

        var result = Training.Train(LargerSet, options, new Synchronous(reports.Add));

        Assert.Equal(2, result.ValidationMatrices);
        var measured = reports.Where(r => !double.IsNaN(r.ValidationError)).ToList();
        Assert.Equal(new[] { 5, 10, 15, 20, 25, 30 }, measured.Select(r => r.Step));
        // The written sketch is the best measured (or the start, measured before step 1), never worse.
        Assert.True(result.ValidationError <= measured.Min(r => r.ValidationError) + 1e-15);
        Assert.Equal(result.BestLoss, result.ValidationError, 12);
        Assert.Equal(measured[^1].ValidationError, result.FinalValidationError, 12);
        // Held-out matrices (0 and 10 of 20) are not trained on: their validation error is Scw's on them, normalized.
        var held = new[] { LargerSet[0], LargerSet[10] }
            .Select(a => a / Svd.SingularValues(a)[0]).ToArray();
        var direct = held.Average(a => Scw.Error(a, result.Sketch, 2));
        Assert.Equal(direct, result.ValidationError, 6);
    }

    [Fact]
    public void Train_WithValidation_ResumedEndsExactlyAsAnUninterruptedRun()
    {
        var options = Options with { Steps = 12, ValidationFraction = 0.2, ValidationEvery = 3 };
        var uninterrupted = Training.Train(LargerSet, options);

        var checkpoint = Scratch("run.ckpt");
        using var cancellation = new CancellationTokenSource();
        var progress = new Synchronous(p => { if (p.Step == 7) cancellation.Cancel(); });
        Training.Train(LargerSet, options with { CheckpointPath = checkpoint }, progress, cancellation.Token);
        var resumed = Training.Train(LargerSet, options with { ResumeFrom = checkpoint });

        Assert.Equal(SketchFile.ToBytes(uninterrupted.Sketch), SketchFile.ToBytes(resumed.Sketch));
        Assert.Equal(uninterrupted.ValidationError, resumed.ValidationError);
        Assert.Equal(uninterrupted.FinalValidationError, resumed.FinalValidationError);
    }

    [Fact]
    public void Train_Throws_WhenTheCheckpointIsCorrupted()
    {
        var checkpoint = Scratch("run.ckpt");
        Training.Train(TrainingSet, Options with { Steps = 2, CheckpointPath = checkpoint });
        var bytes = File.ReadAllBytes(checkpoint);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(checkpoint, bytes);

        var error = Assert.Throws<InvalidDataException>(() => Training.Train(TrainingSet, Options with { ResumeFrom = checkpoint }));
        Assert.Contains("CRC-32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_RejectsStepsThatAreNotFinite_AndKeepsFiniteValues()
    {
        // Rate 1e305: the first update overflows, so the step must be discarded and the rate lowered.
        var options = Options with { Optimizer = Optimizer.Sgd, LearningRate = 1e305, Steps = 12 };
        var reports = new System.Collections.Generic.List<TrainingProgress>();

        var result = Training.Train(TrainingSet, options, new Synchronous(reports.Add));

        Assert.True(result.RejectedSteps > 0);
        Assert.Equal(result.RejectedSteps, reports.Count(r => r.Rejected));
        Assert.All(reports.Where(r => r.Rejected), r => Assert.True(double.IsNaN(r.Loss)));
        Assert.True(reports[^1].LearningRate < 1e305);
        Assert.True(double.IsFinite(Scw.Error(TrainingSet[0], result.Final, rank: 2)));
        Assert.True(double.IsFinite(Scw.Error(TrainingSet[0], result.Sketch, rank: 2)));
    }

    [Fact]
    public void Train_ResumedAtAnyStep_OfARunWithRejectedSteps_EndsExactlyAsTheUninterruptedRun()
    {
        // Rate 1e155 takes the first update to values whose S A overflows, so the next step is rejected and
        // reverted, and so on while the halved rate stays too large; the checkpoint must hold what a revert needs (the
        // values before the last update) for a resume to match.
        var options = Options with
        {
            Optimizer = Optimizer.Sgd, LearningRate = 1e155, Steps = 40, Positions = SketchPositions.Random, NonzerosPerColumn = 1,
        };
        var uninterrupted = Training.Train(TrainingSet, options);
        Assert.InRange(uninterrupted.RejectedSteps, 2, options.Steps - 2);
        Assert.True(double.IsFinite(uninterrupted.LossHistory[^1]), "the run recovers once the rate is small enough");

        for (var cut = 1; cut < options.Steps; cut++)
        {
            var checkpoint = Scratch($"cut{cut}.ckpt");
            using var cancellation = new CancellationTokenSource();
            var stopAt = cut;
            var progress = new Synchronous(p => { if (p.Step == stopAt) cancellation.Cancel(); });
            Training.Train(TrainingSet, options with { CheckpointPath = checkpoint, CheckpointEvery = 1 }, progress, cancellation.Token);

            var resumed = Training.Train(TrainingSet, options with { ResumeFrom = checkpoint });

            Assert.Equal(uninterrupted.LossHistory, resumed.LossHistory);
            Assert.Equal(SketchFile.ToBytes(uninterrupted.Final), SketchFile.ToBytes(resumed.Final));
        }
    }

    [Fact]
    public void Train_Throws_WhenAMatrixIsNotFinite()
    {
        var bad = TrainingSet.Select(m => m.Clone()).ToArray();
        bad[1][2, 3] = double.NaN;

        var error = Assert.Throws<ArgumentException>(() => Training.Train(bad, Options));
        Assert.Equal("matrices", error.ParamName);
        Assert.Contains("matrices[1]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_Throws_WhenTheRankExceedsTheTrainedRows()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Training.Train(TrainingSet, Options with { Kind = LearnedSketchKind.MixedSeparate, SketchRows = 3 }));
        Assert.Equal("options.SketchRows", error.ParamName);
    }

    [Fact]
    public void Train_Throws_WhenTheWeightedLossHasNoWeights()
    {
        var error = Assert.Throws<ArgumentException>(() => Training.Train(TrainingSet, Options with { Loss = TrainingLoss.WeightedFrobenius }));
        Assert.Equal("options", error.ParamName);
    }

    [Fact]
    public async Task TrainAsync_ReportsProgress_AndLowersTheTrainingLoss()
    {
        var steps = 0;
        var result = await Training.TrainAsync(TrainingSet, Options with { Kind = LearnedSketchKind.MixedJoint }, new Synchronous(_ => Interlocked.Increment(ref steps)));

        Assert.Equal(20, steps);
        Assert.Equal(12, result.Sketch.Rows + 6);
        Assert.True(result.BestLoss < result.LossHistory[0]);
    }
}
