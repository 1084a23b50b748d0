using System;
using System.CommandLine;

namespace LowRank.Cli;

/// <summary>The options several commands share, so each has one name, one default and one description.</summary>
internal static class Options
{
    public static Option<int> Rank(int defaultValue = 10) =>
        new("--rank", "-k") { Description = "Target rank k.", DefaultValueFactory = _ => defaultValue };

    /// <summary>The experiments' frames argument, data/vtest.npy by default.</summary>
    public static Argument<string> VideoFrames() =>
        new("data")
        {
            Description = "The frames: a 3-D .npy stack (scripts/fetch-data.sh writes data/vtest.npy), a folder of .npy files or a video.",
            DefaultValueFactory = _ => "data/vtest.npy",
        };

    /// <summary>A NumPy-style frame selection of the experiments (--train, --test).</summary>
    public static Option<string> Frames(string name, string what, string defaultValue) =>
        new(name) { Description = $"{what} frames, NumPy-style.", DefaultValueFactory = _ => defaultValue };

    public static Option<int> Seed(string what, int defaultValue = 0) =>
        new("--seed") { Description = $"Seed of {what}.", DefaultValueFactory = _ => defaultValue };

    public static Option<string?> Select() =>
        new("--select")
        {
            Description =
                "Use only these matrices of the stack, NumPy-style start:stop:step on its first axis "
                + "(e.g. 0:400:4, 400:, ::10, -16:).",
        };

    public static Option<bool> Json() =>
        new("--json") { Description = "Print the results as one JSON object instead of a table." };

    public static Option<string?> CsvFile() =>
        new("--csv") { Description = "Also write the results table to this file as CSV (a header line, then one line per row)." };

    public static Option<string> Normalize() =>
        Choice(
            "--normalize",
            "How each matrix is scaled before errors are measured: 'top' divides by its largest singular value (the "
                + "paper's setting), 'none' uses it as given.",
            "top",
            "top",
            "none"
        );

    /// <summary>A string option limited to fixed words, listed in --help and checked by the parser.</summary>
    public static Option<string> Choice(string name, string description, string defaultValue, params string[] choices)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = string.Join('|', choices),
        };
        option.AcceptOnlyFromAmong(choices);
        return option;
    }

    public static Normalization NormalizationOf(string word) =>
        word == "none" ? Normalization.None : Normalization.TopSingularValue;

    public static void Add(Command command, params Symbol[] symbols)
    {
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Option option:
                    command.Options.Add(option);
                    break;
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                default:
                    throw new ArgumentException($"symbols: {symbol.GetType().Name} is neither an option nor an argument.");
            }
        }
    }
}
