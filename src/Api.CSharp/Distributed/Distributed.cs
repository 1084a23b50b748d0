using System;
using System.Collections.Generic;
using System.Threading;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank;

/// <summary>One rank's part of SCW(S, A) for a matrix whose rows are spread over ranks.</summary>
public sealed class DistributedApproximation
{
    internal DistributedApproximation(Core.DistributedApproximation core) => this.core = core;

    private readonly Core.DistributedApproximation core;

    /// <summary>This rank's rows of the left factor A Right^T (n_i x k').</summary>
    public Matrix<double> Left => core.Left;

    /// <summary>k' x d with orthonormal rows, identical on every rank.</summary>
    public Matrix<double> Right => core.Right;

    /// <summary>The k' singular values, descending, identical on every rank.</summary>
    public IReadOnlyList<double> SingularValues => System.Array.AsReadOnly(core.SingularValues);

    /// <summary>The index in A of this rank's first row.</summary>
    public long RowOffset => core.RowOffset;

    /// <summary>n, A's rows over all ranks.</summary>
    public long TotalRows => core.TotalRows;

    /// <summary>||A - SCW(S, A)||_F over all ranks, identical on every rank, computed without cancellation.</summary>
    public double Error => core.Error;
}

/// <summary>One rank's part of svd_w for rows of W and A spread over ranks.</summary>
public sealed class DistributedWeightedApproximation
{
    internal DistributedWeightedApproximation(Core.DistributedWeightedApproximation core) => this.core = core;

    private readonly Core.DistributedWeightedApproximation core;

    /// <summary>This rank's rows of A~ = W^(o+) o [W o A]_t (n_i x d).</summary>
    public Matrix<double> Local => core.Local;

    /// <summary>||W o (A - A~)||_F over all ranks.</summary>
    public double Loss => core.Loss;

    /// <summary>The index in A of this rank's first row.</summary>
    public long RowOffset => core.RowOffset;
}

/// <summary>The Theorem 3.1 protocol run across ranks: the reconstruction on rank 0 and every rank's message size.</summary>
public sealed class DistributedProtocolRun
{
    internal DistributedProtocolRun(Core.DistributedProtocolRun core) => this.core = core;

    private readonly Core.DistributedProtocolRun core;

    /// <summary>On rank 0 the n x d reconstruction; null on the other ranks.</summary>
    public Matrix<double>? Reconstruction => Microsoft.FSharp.Core.OptionModule.ToObj(core.Reconstruction);

    /// <summary>Every rank's message size in bits, in rank order.</summary>
    public IReadOnlyList<long> MessageBits => System.Array.AsReadOnly(core.MessageBits);

    /// <summary>Every rank's Theorem 3.1 bound in bits (<see cref="Protocol.BoundInBits"/>), in rank order.</summary>
    public IReadOnlyList<double> BoundBits => System.Array.AsReadOnly(core.BoundBits);
}

/// <summary>
/// LowRank's algorithms on data spread over ranks, through any <see cref="ICommunicator"/> (MPI with
/// LowRank.Distributed, threads with <see cref="Communicator.RunInProcess{T}"/>). Every rank calls the same method with
/// its own part; an argument error found on any rank is raised on every rank, naming that rank.
/// </summary>
public static class Distributed
{
    /// <summary>S A on every rank: each rank sketches its own rows at its global offset; one Allreduce sums them.</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="part">This rank's rows of A (n_i x d, finite; n_i may be 0); rank i's rows follow rank i - 1's.</param>
    /// <param name="sketch">S, the same on every rank.</param>
    /// <returns>S A (m x d).</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">On any rank: a bad part, differing widths, or a sketch that does not fit.</exception>
    public static Matrix<double> Sketch(ICommunicator communicator, Matrix<double> part, BlockSketch sketch) =>
        Core.Distributed.Sketch(Communicator.CoreOf(communicator), BlockSketch.CoreOf(sketch), part);

    /// <summary>SCW(S, A) = [A V]_k V^T for rows spread over ranks: S A by Allreduce, V from rank 0's SVD of S A,
    /// [A V]_k by a tall-skinny QR; the left factor stays distributed. Communication per rank is independent of n:
    /// m d + r d + r^2 + r k + k + 3 values (more only when the error is tiny and must be formed).</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="part">This rank's rows of A (n_i x d, finite; n_i may be 0).</param>
    /// <param name="sketch">S with m &gt;= k rows.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
    /// <returns>This rank's part; stacking the ranks' Left gives the single-process SCW's up to rounding.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">On any rank: as for <see cref="Sketch(ICommunicator, Matrix{double}, BlockSketch)"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)].</exception>
    public static DistributedApproximation Approximate(ICommunicator communicator, Matrix<double> part, BlockSketch sketch, int rank) =>
        new(Core.Distributed.Approximate(Communicator.CoreOf(communicator), rank, BlockSketch.CoreOf(sketch), part));

    /// <summary><see cref="Approximate"/> with q power iterations after the sketch: V_(i+1) = orth(A^T A V_i), A^T A V
    /// summed over the ranks (one Allreduce and one broadcast of d r values per iteration); its error is that of
    /// <see cref="Scw.ApproximateWithPower"/> in memory up to eps ||A||_F.</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="part">This rank's rows of A (n_i x d, finite; n_i may be 0).</param>
    /// <param name="sketch">S, with m &gt;= k rows.</param>
    /// <param name="rank">k, 1 &lt;= k &lt;= min(n, d).</param>
    /// <param name="powerIterations">q &gt;= 0, the same on every rank; 0 is <see cref="Approximate"/>.</param>
    /// <returns>This rank's part of the approximation.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">As for <see cref="Approximate"/>.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="rank"/> is outside [1, min(n, d)], or
    /// <paramref name="powerIterations"/> is negative.</exception>
    public static DistributedApproximation ApproximateWithPower(
        ICommunicator communicator, Matrix<double> part, BlockSketch sketch, int rank, int powerIterations) =>
        new(Core.Distributed.ApproximateWithPower(Communicator.CoreOf(communicator), powerIterations, rank, BlockSketch.CoreOf(sketch), part));

    /// <summary>Every rank's rows stacked in rank order, on every rank.</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="part">This rank's rows (n_i x d; d the same on every rank).</param>
    /// <returns>The stacked matrix.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">The ranks' column counts differ.</exception>
    public static Matrix<double> GatherRows(ICommunicator communicator, Matrix<double> part) =>
        Core.Distributed.GatherRows(Communicator.CoreOf(communicator), part);

    /// <summary>svd_w (Woodruff and Yasuda 2024, Algorithm 1) for rows of W and A spread over ranks, with [W o A]_t from
    /// SCW of the sketch (a randomized range finder; take m of 2 t or more).</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="part">This rank's rows of A.</param>
    /// <param name="weights">This rank's rows of W, of the same shape.</param>
    /// <param name="sketch">S with m &gt;= t rows.</param>
    /// <param name="totalRank">t = r k.</param>
    /// <returns>This rank's rows of A~ and the weighted loss over all ranks.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">On any rank: a bad part or weights of another shape.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="totalRank"/> is outside [1, min(n, d)].</exception>
    public static DistributedWeightedApproximation SvdW(
        ICommunicator communicator, Matrix<double> part, Matrix<double> weights, BlockSketch sketch, int totalRank) =>
        new(Core.Distributed.SvdW(Communicator.CoreOf(communicator), totalRank, BlockSketch.CoreOf(sketch), weights, part));

    /// <summary>The Theorem 3.1 protocol with A's columns spread over ranks: each rank sends its message to rank 0, which
    /// knows W and reconstructs.</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="part">This rank's columns of A (n x d_i).</param>
    /// <param name="weights">W (n x d), known to every rank.</param>
    /// <param name="rank">k.</param>
    /// <param name="columns">This rank's c, r k &lt;= c &lt;= d_i.</param>
    /// <returns>The reconstruction on rank 0 and the message sizes.</returns>
    /// <exception cref="System.ArgumentNullException">An argument is null.</exception>
    /// <exception cref="System.ArgumentException">On any rank: the parts do not split W's columns, or
    /// <see cref="Protocol.Send(Matrix{double}, Weights, int, int)"/> rejects a rank's arguments.</exception>
    public static DistributedProtocolRun Protocol(
        ICommunicator communicator, Matrix<double> part, Weights weights, int rank, int columns) =>
        new(Core.Distributed.Protocol(Communicator.CoreOf(communicator), columns, rank, Weights.CoreOf(weights), part));

    /// <summary>Data-parallel training: each rank holds part of the training set, every rank draws the same global batch,
    /// computes the gradients of the batch's matrices it holds, and one Allreduce a step sums them. With the same options
    /// the result equals <see cref="Training.Train"/> on all the matrices (in rank order) up to rounding.</summary>
    /// <param name="communicator">The ranks.</param>
    /// <param name="matrices">This rank's training matrices (possibly none), all of one shape on every rank. A
    /// <see cref="MatrixStack"/> (for instance <see cref="MatrixStack.Slice"/> of a video's uint8 frames) is read a
    /// matrix at a time, as <see cref="Training.Train"/> does.</param>
    /// <param name="options">As for <see cref="Training.Train"/>, the same on every rank; Positions Greedy is not supported
    /// distributed (it reads every matrix). Rank 0 writes CheckpointPath; every rank reads ResumeFrom (a shared file
    /// system), and a checkpoint resumes on any number of ranks or on one process.</param>
    /// <param name="progress">Receives a report after every step on every rank; may be null.</param>
    /// <param name="cancellationToken">Any rank's cancellation stops every rank after the same step.</param>
    /// <returns>The same result on every rank.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">On any rank: a matrix is not finite or has another shape, no rank has a matrix,
    /// Positions is Greedy, or ResumeFrom was written for other options or data.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <remarks>Per step each rank sends the gradient (n s values) and 3 numbers; the work per step divides by the ranks
    /// when the batch spreads evenly.</remarks>
    public static TrainingResult Train(
        ICommunicator communicator,
        IEnumerable<Matrix<double>> matrices,
        TrainingOptions options,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        LowRank.Training.CheckOptions(options);
        return new TrainingResult(Core.Distributed.Train(
            Communicator.CoreOf(communicator), options.ToCore(), LowRank.Training.Reporter(progress), cancellationToken,
            MatrixStack.CoreOf(matrices)));
    }
}
