using System.Threading;
using LowRank.Cli;

// The process entry point: real standard streams, and Ctrl+C handled by System.CommandLine (it cancels the token that
// long commands watch, so training stops at the end of its step and still writes its best sketch).
return await App.RunAsync(args, Terminal.Standard(), handleSignals: true, CancellationToken.None);
