using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;

namespace LowRank.Mpi;

/// <summary>
/// An <see cref="ICommunicator"/> over MPI's world communicator, through MPI.NET. MPI.NET was built for MS-MPI, whose
/// integer handles are MPICH's: on Linux it runs on MPICH and every MPI with MPICH's ABI (Intel MPI, MVAPICH, Cray
/// MPICH), never on Open MPI (pointer handles). Launch with <c>mpirun.mpich -np 4 dotnet program.dll</c>.
/// </summary>
/// <example>
/// <code>
/// using var mpi = MpiCommunicator.Initialize(ref args);
/// var part = Npy.ReadMatrix($"part-{mpi.Rank}.npy");
/// var mine = Distributed.Approximate(mpi, part, BlockSketch.Hashed(seed: 1, rows: 40), rank: 10);
/// </code>
/// </example>
public sealed class MpiCommunicator : ICommunicator, IDisposable
{
    // MPI.NET imports "msmpi.dll"; these are the names of an MPICH-ABI library on Linux, Debian's first. The environment
    // variable LOWRANK_MPI_LIBRARY names another (a path or a soname).
    private static readonly string[] Candidates = ["libmpich.so.12", "libmpi.so.12", "libmpich.so", "libmpi.so"];

    private static int resolverSet;

    private readonly MPI.Environment environment;
    private readonly MPI.Intracommunicator world;
    private bool disposed;

    private MpiCommunicator(MPI.Environment environment)
    {
        this.environment = environment;
        world = MPI.Communicator.world;
    }

    /// <summary>This process's rank in MPI's world communicator.</summary>
    public int Rank => world.Rank;

    /// <summary>The number of processes mpirun started.</summary>
    public int Size => world.Size;

    /// <summary>
    /// True when this process was started by an MPI launcher (mpirun, mpiexec, srun): MPICH's Hydra sets PMI_RANK and
    /// PMI_SIZE, Slurm PMI_RANK or SLURM_PROCID with PMI_FD; without one, MPI would run a single rank.
    /// </summary>
    public static bool IsLaunchedByMpi =>
        Environment.GetEnvironmentVariable("PMI_RANK") is not null
        || Environment.GetEnvironmentVariable("PMI_SIZE") is not null
        || Environment.GetEnvironmentVariable("PMIX_RANK") is not null;

    /// <summary>Initializes MPI (MPI_Init) and returns the world communicator; dispose it to finalize MPI.</summary>
    /// <param name="args">The program's arguments; MPI may remove its own.</param>
    /// <returns>The communicator.</returns>
    /// <exception cref="DllNotFoundException">No MPICH-ABI library was found; the message says what to install.</exception>
    public static MpiCommunicator Initialize(ref string[] args)
    {
        if (System.Threading.Interlocked.Exchange(ref resolverSet, 1) == 0)
            NativeLibrary.SetDllImportResolver(typeof(MPI.Environment).Assembly, Resolve);
        return new MpiCommunicator(new MPI.Environment(ref args));
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (!name.StartsWith("msmpi", StringComparison.OrdinalIgnoreCase))
            return IntPtr.Zero;
        var chosen = Environment.GetEnvironmentVariable("LOWRANK_MPI_LIBRARY");
        foreach (var candidate in chosen is null ? Candidates : [chosen])
        {
            if (NativeLibrary.TryLoad(candidate, out var handle))
                return handle;
        }
        throw new DllNotFoundException(
            $"MPI was not found: none of {string.Join(", ", chosen is null ? Candidates : [chosen])} could be loaded. "
            + "Install MPICH (Debian: apt-get install mpich) or set LOWRANK_MPI_LIBRARY to an MPICH-ABI libmpi.so. "
            + "Open MPI is not supported (MPI.NET needs MPICH's integer handles).");
    }

    /// <inheritdoc/>
    public double[] AllreduceSum(double[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        // The lengths must agree, or MPI would read past the shorter arrays: checked with one more (tiny) reduction,
        // the maximum of (length, -length) giving the longest and the shortest at once.
        var extremes = world.Allreduce(new[] { values.Length, -values.Length }, MPI.Operation<int>.Max);
        int longest = extremes[0], shortest = -extremes[1];
        if (longest != shortest)
            throw new ArgumentException(
                $"Expected equally long arrays on every rank, but the lengths range from {shortest} to {longest}.", nameof(values));
        // Reduce to rank 0, then broadcast: MPI_Allreduce may combine in a different order on different ranks (recursive
        // doubling), and ranks whose sums differ in the last bit would take different training steps and drift apart.
        var sums = world.Reduce(values, MPI.Operation<double>.Add, 0);
        var result = world.Rank == 0 ? sums : new double[values.Length];
        world.Broadcast(ref result, 0);
        return result;
    }

    /// <inheritdoc/>
    public byte[][] Allgather(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var counts = world.Allgather(bytes.Length);
        var flat = world.AllgatherFlattened(bytes, counts);
        var result = new byte[counts.Length][];
        var offset = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            result[i] = flat.AsSpan(offset, counts[i]).ToArray();
            offset += counts[i];
        }
        return result;
    }

    /// <inheritdoc/>
    public byte[] Broadcast(byte[] bytes, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        var length = Rank == root ? bytes?.Length ?? 0 : 0;
        world.Broadcast(ref length, root);
        var buffer = Rank == root ? (byte[])bytes!.Clone() : new byte[length];
        if (length > 0)
            world.Broadcast(ref buffer, root);
        return buffer;
    }

    /// <summary>Finalizes MPI (MPI_Finalize); no MPI call may follow in this process.</summary>
    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        environment.Dispose();
    }
}
