using System;

namespace LowRank;

/// <summary>
/// The collective operations of LowRank's distributed algorithms over a fixed group of processes (ranks). Every rank
/// calls the same operations in the same order, as MPI's collectives require. Implementations:
/// <see cref="Communicator.Single"/>, <see cref="Communicator.RunInProcess{T}"/> (ranks as threads) and
/// LowRank.Distributed's <c>MpiCommunicator</c> (MPI).
/// </summary>
public interface ICommunicator
{
    /// <summary>This process's rank, 0 .. <see cref="Size"/> - 1.</summary>
    int Rank { get; }

    /// <summary>The number of ranks, at least 1.</summary>
    int Size { get; }

    /// <summary>The element-wise sum over the ranks of equally long arrays, returned to every rank with the same bits on
    /// every rank (ranks that disagreed in the last bit would take different training steps and drift apart).</summary>
    /// <param name="values">This rank's values.</param>
    /// <returns>The sums.</returns>
    double[] AllreduceSum(double[] values);

    /// <summary>Every rank's bytes (the lengths may differ), in rank order, returned to every rank.</summary>
    /// <param name="bytes">This rank's bytes.</param>
    /// <returns>All ranks' bytes.</returns>
    byte[][] Allgather(byte[] bytes);

    /// <summary>The root rank's bytes, returned to every rank; the other ranks' argument is ignored.</summary>
    /// <param name="bytes">The root's bytes (ignored elsewhere).</param>
    /// <param name="root">The sending rank.</param>
    /// <returns>The root's bytes.</returns>
    byte[] Broadcast(byte[] bytes, int root);
}

/// <summary>
/// What one rank sent through a counting communicator (<see cref="Communicator.Counting"/>): the collective operations
/// (rounds) and the payload bytes this rank contributed (8 L for a sum of L values, its own bytes for an allgather, the
/// bytes for the root of a broadcast, 0 for the others). MPI's algorithms move at most about twice this per rank.
/// </summary>
public sealed class Traffic
{
    internal Core.Traffic Core { get; } = new();

    /// <summary>The collective operations called.</summary>
    public long Rounds => Core.Rounds;

    /// <summary>The payload bytes contributed.</summary>
    public long Bytes => Core.Bytes;
}

/// <summary>Communicators: one process, ranks as threads, and counting.</summary>
public static class Communicator
{
    /// <summary>The communicator of a single process: every collective returns its own argument.</summary>
    public static ICommunicator Single { get; } = new FromCore(LowRank.Core.Communicator.Single);

    /// <summary>A communicator that records what this rank sends through <paramref name="inner"/>.</summary>
    /// <param name="traffic">The counters to add to.</param>
    /// <param name="inner">The communicator that does the work.</param>
    /// <returns>The counting communicator.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="traffic"/> or <paramref name="inner"/> is null.</exception>
    public static ICommunicator Counting(Traffic traffic, ICommunicator inner) =>
        new FromCore(LowRank.Core.Communicator.Counting(traffic?.Core!, CoreOf(inner)));

    /// <summary>
    /// Runs <paramref name="program"/> on <paramref name="size"/> ranks, each on a thread of its own with an in-process
    /// communicator, and returns each rank's result in rank order: a distributed program tried on one machine.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="size">The number of ranks, at least 1.</param>
    /// <param name="program">What every rank runs.</param>
    /// <returns>The results, in rank order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is less than 1.</exception>
    /// <remarks>If a rank throws, the others' next collective throws <see cref="OperationCanceledException"/> and the
    /// lowest rank's original exception is rethrown here.</remarks>
    public static T[] RunInProcess<T>(int size, Func<ICommunicator, T> program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return LowRank.Core.Communicator.RunInProcess(
            size, Microsoft.FSharp.Core.FuncConvert.FromFunc<Core.ICommunicator, T>(c => program(new FromCore(c))));
    }

    /// <summary>The core's view of a communicator (null flows on, so the core names the argument).</summary>
    internal static Core.ICommunicator CoreOf(ICommunicator? communicator) => communicator switch
    {
        null => null!,
        FromCore wrapped => wrapped.Inner,
        _ => new ToCore(communicator),
    };

    private sealed class FromCore(Core.ICommunicator inner) : ICommunicator
    {
        internal Core.ICommunicator Inner => inner;
        public int Rank => inner.Rank;
        public int Size => inner.Size;
        public double[] AllreduceSum(double[] values) => inner.AllreduceSum(values);
        public byte[][] Allgather(byte[] bytes) => inner.Allgather(bytes);
        public byte[] Broadcast(byte[] bytes, int root) => inner.Broadcast(bytes, root);
    }

    private sealed class ToCore(ICommunicator outer) : Core.ICommunicator
    {
        public int Rank => outer.Rank;
        public int Size => outer.Size;
        public double[] AllreduceSum(double[] values) => outer.AllreduceSum(values);
        public byte[][] Allgather(byte[] bytes) => outer.Allgather(bytes);
        public byte[] Broadcast(byte[] bytes, int root) => outer.Broadcast(bytes, root);
    }
}
