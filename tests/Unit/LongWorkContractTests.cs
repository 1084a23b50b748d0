using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace LowRank.Unit;

/// <summary>Every long-running operation of the facade keeps one contract: progress and a cancellation token as its last
/// two arguments, a Task form that runs on a worker thread, progress that counts up to its limit, and a cancellation that
/// stops it within one report (the task ends cancelled, not faulted).</summary>
public sealed class LongWorkContractTests : ScratchDirectory
{
    private static readonly Matrix<double> A = Matrix<double>.Build.Random(12, 9, 5);

    private static readonly Weights W = Weights.FromMatrix(Matrix<double>.Build.Dense(12, 9, (i, j) => 0.5 + (i * 7 + j * 3) % 5));

    private static readonly WlraOptions Options = new() { MaxIterations = 6, AdamSteps = 6, Tolerance = 0 };

    /// <summary>The operations, each as (progress, token) -> Task of the counters it reported (done, limit).</summary>
    public static IEnumerable<object[]> Operations() =>
        new[] { "em", "emw", "als", "adam", "greedy", "mlp", "stream" }.Select(name => new object[] { name });

    /// <summary>A 200 x 9 .npy file streamed in blocks of 50 rows with one power iteration: 3 passes of 4 blocks.</summary>
    private Task Stream(Action<int, int> report, CancellationToken token)
    {
        var path = Scratch("a.npy");
        Npy.WriteMatrix(path, Matrix<double>.Build.Random(200, 9, 3));
        return Streaming.ApproximateFileAsync(path, BlockSketch.Hashed(1, 6), 3, 1, 50, Scratch("left.npy"),
            new Synchronous<StreamingProgress>(p => report((p.Pass - 1) * 4 + (p.Rows + 49) / 50, p.Passes * 4)), token);
    }

    private Task Run(string name, Action<int, int> report, CancellationToken token) => name switch
    {
        "em" => Wlra.EmAsync(A, W, 3, Options, Progress(report), token),
        "emw" => Wlra.EmWAsync(A, W, 3, Options, Progress(report), token),
        "als" => Wlra.AlsAsync(A, W, 3, Options, Progress(report), token),
        "adam" => Wlra.AdamAsync(A, W, 3, Options, Progress(report), token),
        "greedy" => Wlra.GreedyAsync(A, W, 3, Progress(report), token),
        "mlp" => Mlp.TrainAsync(Matrix<double>.Build.Random(40, 6, 2), Enumerable.Range(0, 40).Select(i => i % 3).ToArray(), 3,
            new MlpOptions { Hidden = 4, Epochs = 4, BatchSize = 8 }, new Synchronous<MlpProgress>(p => report(p.Epoch, p.Epochs)), token),
        "stream" => Stream(report, token),
        _ => throw new ArgumentException(name),
    };

    private static IProgress<WlraProgress> Progress(Action<int, int> report) =>
        new Synchronous<WlraProgress>(p => report(p.Iteration, p.Limit));

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, out of order).</summary>
    private sealed class Synchronous<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Progress_CountsUpToItsLimit(string name)
    {
        var reports = new List<(int Done, int Limit)>();
        await Run(name, (done, limit) => reports.Add((done, limit)), CancellationToken.None);

        Assert.NotEmpty(reports);
        Assert.Equal(Enumerable.Range(1, reports.Count), reports.Select(r => r.Done));
        Assert.All(reports, r => Assert.True(r.Done <= r.Limit, $"{r.Done} of {r.Limit}"));
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Cancelling_AfterTheFirstReport_EndsTheTaskCancelled_WithinOneReport(string name)
    {
        using var source = new CancellationTokenSource();
        var reports = 0;
        var task = Run(name, (_, _) =>
        {
            reports++;
            source.Cancel();
        }, source.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(task.IsCanceled, $"the task is {task.Status}");
        Assert.Equal(1, reports);
        // A streamed run stops before its left factor's file exists, and leaves no spill behind.
        Assert.False(System.IO.File.Exists(Scratch("left.npy")));
        Assert.False(System.IO.File.Exists(Scratch("left.npy") + ".av.tmp"));
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task AnAlreadyCancelledToken_NeverStartsTheWork(string name)
    {
        var reports = 0;
        var task = Run(name, (_, _) => reports++, new CancellationToken(true));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(task.IsCanceled);
        Assert.Equal(0, reports);
    }
}
