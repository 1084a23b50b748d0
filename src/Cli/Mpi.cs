using LowRank.Mpi;

namespace LowRank.Cli;

/// <summary>
/// MPI for the commands, when mpirun started this process (<c>mpirun.mpich -np 4 lowrank approx a.npy</c>): approx runs
/// distributed (each rank reads its own rows) and train data-parallel (each rank trains on its share of the matrices);
/// rank 0 alone prints and writes files. Every other command runs on rank 0 alone and the other ranks exit at once.
/// </summary>
internal static class Mpi
{
    private static MpiCommunicator? communicator;

    /// <summary>MPI's world communicator, or null when not launched by MPI.</summary>
    public static ICommunicator? Communicator => communicator;

    /// <summary>The commands every rank runs.</summary>
    public static bool IsDistributed(string command) => command is "approx" or "train";

    /// <summary>Whether this process prints and writes files: always, except on the ranks other than 0 under mpirun.</summary>
    public static bool Writes => communicator is null || communicator.Rank == 0;

    /// <summary>Initializes MPI when an MPI launcher started this process.</summary>
    public static void Start(ref string[] args)
    {
        if (MpiCommunicator.IsLaunchedByMpi)
            communicator = MpiCommunicator.Initialize(ref args);
    }

    /// <summary>Finalizes MPI.</summary>
    public static void Stop() => communicator?.Dispose();
}
