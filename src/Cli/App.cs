using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace LowRank.Cli;

/// <summary>The lowrank command line: it parses, dispatches to a command, and turns every failure into one line on
/// standard error and a nonzero exit code (the full trace only with --verbose).</summary>
internal static class App
{
    /// <summary>Exit code of a command that failed.</summary>
    public const int Failure = 1;

    /// <summary>Exit code of a command line that does not parse.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code after Ctrl+C (128 + SIGINT, as shells report it), also when the best result was written.</summary>
    public const int Interrupted = 130;

    public static async Task<int> RunAsync(
        string[] args,
        Terminal terminal,
        bool handleSignals,
        CancellationToken cancellationToken
    )
    {
        var verbose = new Option<bool>("--verbose")
        {
            Description = "On an error, print the full exception with its stack trace.",
            Recursive = true,
        };

        var root = new RootCommand(
            "lowrank: low-rank approximation with learned sketches (Indyk, Vakilian and Yuan 2019) and weighted low-rank "
                + "approximation (Woodruff and Yasuda 2024). Run 'lowrank demo' first."
        );
        root.Options.Add(verbose);
        root.Subcommands.Add(DemoCommand.Create(terminal));
        root.Subcommands.Add(TrainCommand.Create(terminal));
        root.Subcommands.Add(EvalCommand.Create(terminal));
        root.Subcommands.Add(ApproxCommand.Create(terminal));
        root.Subcommands.Add(WlraCommand.Create(terminal));
        root.Subcommands.Add(CompressCommand.Create(terminal));
        root.Subcommands.Add(CompressModelCommand.Create(terminal));
        root.Subcommands.Add(ReproduceCommand.Create(terminal));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var command = parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ";
            terminal.Error.WriteLine($"lowrank: {OneLine(parsed.Errors[0].Message)} (see 'lowrank {command}--help')");
            return UsageError;
        }

        var configuration = new InvocationConfiguration
        {
            Output = terminal.Output,
            Error = terminal.Error,
            EnableDefaultExceptionHandler = false,
            // Long enough for a training step to finish and the best sketch to be written after Ctrl+C.
            ProcessTerminationTimeout = handleSignals ? TimeSpan.FromSeconds(60) : null,
        };

        try
        {
            return await parsed.InvokeAsync(configuration, cancellationToken);
        }
        catch (Exception e) when (Unwrap(e) is OperationCanceledException)
        {
            terminal.Error.WriteLine("lowrank: interrupted.");
            return Interrupted;
        }
        catch (Exception e)
        {
            var error = Unwrap(e);
            terminal.Error.WriteLine(
                parsed.GetValue(verbose) ? $"lowrank: {error}" : $"lowrank: {OneLine(error.Message)} (--verbose shows the trace)"
            );
            return Failure;
        }
    }

    private static Exception Unwrap(Exception e) =>
        e is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerExceptions[0])
        : e is System.Reflection.TargetInvocationException { InnerException: { } inner } ? Unwrap(inner)
        : e;

    /// <summary>A message on one line: exception messages may span lines, and the CLI promises one.</summary>
    internal static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(part => part.Trim()));
}
