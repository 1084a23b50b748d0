using System.Threading;
using LowRank.Cli;

// The process entry point: real standard streams, and Ctrl+C handled by System.CommandLine (it cancels the token that
// long commands watch, so training stops at the end of its step and still writes its best sketch). Under mpirun, MPI is
// initialized first; approx and train run on every rank (rank 0 prints and writes), the other commands on rank 0 alone. No try/finally around the run:
// with one, Ctrl+C left a training run going (observed, cause not found; CtrlC_DuringTraining tests it).
Mpi.Start(ref args);
if (Mpi.Communicator is { Rank: > 0 } && (args.Length == 0 || !Mpi.IsDistributed(args[0])))
{
    Mpi.Stop();
    return 0;
}
// The other ranks' output would repeat rank 0's (argument errors are raised on every rank alike).
var terminal = Mpi.Writes ? Terminal.Standard() : Terminal.Silent();
var code = await App.RunAsync(args, terminal, handleSignals: true, CancellationToken.None);
Mpi.Stop();
return code;
