using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using MathNet.Numerics.LinearAlgebra;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary>One training run with its progress shown: a live bar on a terminal, a line every tenth of the run when the
/// output is redirected (a log file should not fill with redraws).</summary>
internal static class TrainingRun
{
    public static async Task<TrainingResult> RunAsync(
        Terminal terminal,
        string label,
        IReadOnlyList<Matrix<double>> matrices,
        TrainingOptions options,
        CancellationToken cancellationToken,
        Action<TrainingProgress>? observe = null
    )
    {
        if (Mpi.Communicator is { } mpi)
        {
            // Data-parallel under mpirun: each rank trains on its contiguous share of the matrices (it still reads the
            // whole file, in its own dtype for a .npy stack).
            var first = (int)((long)matrices.Count * mpi.Rank / mpi.Size);
            var last = (int)((long)matrices.Count * (mpi.Rank + 1) / mpi.Size);
            // A stack's share stays compact (a slice shares its storage); other lists are shared as they are.
            IReadOnlyList<Matrix<double>> share = last == first
                ? []
                : matrices is MatrixStack stack
                    ? MatrixStack.Slice(stack, first, last - first)
                    : new ListSlice(matrices, first, last - first);
            var shown = new LineReporter(terminal, $"{label} ({mpi.Size} ranks)");
            return await Task.Run(() => Distributed.Train(mpi, share, options, Tee(shown, observe), cancellationToken), CancellationToken.None);
        }

        if (!terminal.Interactive)
        {
            var lines = new LineReporter(terminal, label);
            return await Training.TrainAsync(matrices, options, Tee(lines, observe), cancellationToken);
        }

        return await terminal
            .Console.Progress()
            .AutoClear(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new RemainingTimeColumn()
            )
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(label), maxValue: options.Steps);
                var bar = new BarReporter(task, label);
                var result = await Training.TrainAsync(matrices, options, Tee(bar, observe), cancellationToken);
                // A cancelled run keeps its bar where it stopped; a finished one may have skipped the last report.
                if (!result.Cancelled)
                    task.Value = task.MaxValue;
                return result;
            });
    }

    private static IProgress<TrainingProgress> Tee(IProgress<TrainingProgress> shown, Action<TrainingProgress>? observe) =>
        observe is null ? shown : new Both(shown, observe);

    private sealed class Both(IProgress<TrainingProgress> shown, Action<TrainingProgress> observe) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            observe(value);
            shown.Report(value);
        }
    }

    /// <summary>The step's validation error, when one was measured (BestLoss is then the best validation error).</summary>
    private static string Validation(TrainingProgress value) =>
        double.IsNaN(value.ValidationError) ? "" : $", validation {value.ValidationError:0.000000}";

    /// <summary>Reports straight from the training thread: Spectre's ProgressTask is thread-safe, and Progress&lt;T&gt;
    /// would post to the thread pool and could show steps out of order.</summary>
    private sealed class BarReporter(ProgressTask task, string label) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            task.Value = value.Step;
            task.Description = Markup.Escape($"{label}  loss {value.Loss:0.000000}  best {value.BestLoss:0.000000}{Validation(value)}");
        }
    }

    private sealed class LineReporter(Terminal terminal, string label) : IProgress<TrainingProgress>
    {
        private int lastTenth = -1;

        public void Report(TrainingProgress value)
        {
            var tenth = value.Steps == 0 ? 10 : 10 * value.Step / value.Steps;
            if (tenth == lastTenth)
                return;
            lastTenth = tenth;
            terminal.Console.WriteLine(
                $"{label}: step {value.Step}/{value.Steps}, loss {value.Loss:0.000000}, best {value.BestLoss:0.000000}{Validation(value)}, "
                    + $"{value.Elapsed.TotalSeconds:0.0} s"
            );
        }
    }

    /// <summary>A range of a list, without copying it.</summary>
    private sealed class ListSlice(IReadOnlyList<Matrix<double>> items, int first, int count) : IReadOnlyList<Matrix<double>>
    {
        public Matrix<double> this[int index] => items[first + index];

        public int Count => count;

        public IEnumerator<Matrix<double>> GetEnumerator()
        {
            for (var i = 0; i < count; i++)
                yield return items[first + i];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
