using LowRank.Mpi;

namespace LowRank.Cli;

/// <summary>
/// MPI for the commands, when mpirun started this process (<c>mpirun.mpich -np 4 lowrank approx a.npy</c>): approx runs
/// distributed, each rank reading its own rows; every other command runs on rank 0 alone, and the other ranks exit at
/// once, so that no file is written twice.
/// </summary>
internal static class Mpi
{
    private static MpiCommunicator? communicator;

    /// <summary>MPI's world communicator, or null when not launched by MPI.</summary>
    public static ICommunicator? Communicator => communicator;

    /// <summary>Initializes MPI when an MPI launcher started this process.</summary>
    public static void Start(ref string[] args)
    {
        if (MpiCommunicator.IsLaunchedByMpi)
            communicator = MpiCommunicator.Initialize(ref args);
    }

    /// <summary>Finalizes MPI.</summary>
    public static void Stop() => communicator?.Dispose();
}
