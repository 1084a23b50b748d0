using System;
using System.IO;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary>Where a command writes: Spectre.Console for tables and progress, plain writers for machine output (JSON,
/// help) and for errors. Tests pass string writers and a console without colour or animation.</summary>
internal sealed record Terminal(IAnsiConsole Console, TextWriter Output, TextWriter Error)
{
    /// <summary>The process's streams. Redirected output (a pipe, a log file) gets plain text: no colour, no escape
    /// codes, no redrawn progress bars.</summary>
    public static Terminal Standard() =>
        System.Console.IsOutputRedirected
            ? new(Plain(System.Console.Out), System.Console.Out, System.Console.Error)
            : new(AnsiConsole.Console, System.Console.Out, System.Console.Error);

    private static IAnsiConsole Plain(TextWriter output)
    {
        var console = AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(output),
            }
        );
        // Spectre assumes 80 columns without a terminal; logs and files have no width, so tables need not wrap.
        console.Profile.Width = 120;
        return console;
    }

    public static Terminal Captured(StringWriter output, StringWriter error) => new(Plain(output), output, error);

    /// <summary>A terminal that shows nothing: the ranks other than 0 under mpirun, whose output would repeat rank 0's.</summary>
    public static Terminal Silent() => new(Plain(TextWriter.Null), TextWriter.Null, TextWriter.Null);

    /// <summary>Whether progress bars can redraw in place; otherwise progress is a line every few seconds.</summary>
    public bool Interactive => Console.Profile.Capabilities.Interactive && Console.Profile.Capabilities.Ansi;
}
