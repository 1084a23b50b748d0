using System.Threading;
using LowRank.Cli;

// The process entry point: real standard streams, and Ctrl+C handled by System.CommandLine (it cancels the token that
// long commands watch, so training stops at the end of its step and still writes its best sketch). Under mpirun, MPI is
// initialized first; only approx is distributed, so the other commands run on rank 0 alone. No try/finally around the run:
// with one, Ctrl+C left a training run going (observed, cause not found; CtrlC_DuringTraining tests it).
Mpi.Start(ref args);
if (Mpi.Communicator is { Rank: > 0 } && (args.Length == 0 || args[0] != "approx"))
{
    Mpi.Stop();
    return 0;
}
var code = await App.RunAsync(args, Terminal.Standard(), handleSignals: true, CancellationToken.None);
Mpi.Stop();
return code;
