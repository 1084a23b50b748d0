using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary>Tables shared by the commands.</summary>
internal static class Tables
{
    /// <summary>Renders a facts table to a discarded console on the thread pool: Spectre's table layout is compiled on first
    /// use (0.07 s, a tenth of a whole <c>approx</c> command on a big matrix), so a command that reads a big file first
    /// warms it meanwhile.</summary>
    public static void WarmInBackground() =>
        System.Threading.Tasks.Task.Run(() =>
            AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.IO.TextWriter.Null) })
                .Write(Facts(("warm", "1.0"))));

    /// <summary>A two-column table of names and values, without headers. Cells are escaped: paths and formulas such as
    /// [A]_k contain brackets, which Spectre would otherwise read as markup.</summary>
    public static Table Facts(params (string Name, string Value)[] facts)
    {
        var table = new Table().AddColumn("").AddColumn("");
        table.ShowHeaders = false;
        foreach (var (name, value) in facts)
            table.AddRow(Markup.Escape(name), Markup.Escape(value));
        return table;
    }

    /// <summary>A CSV field (RFC 4180): quoted, with inner quotes doubled, when it holds a comma, a quote or a line
    /// break.</summary>
    public static string CsvField(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";

    /// <summary>A number as a CSV field: round-trip precision, invariant culture, empty when absent.</summary>
    public static string CsvNumber(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? "";

    /// <summary>Writes a header line and one line per row to `path`, every field through <see cref="CsvField"/>.</summary>
    public static void WriteCsv(string path, IEnumerable<string> header, IEnumerable<IEnumerable<string>> rows) =>
        File.WriteAllLines(path, new[] { header }.Concat(rows).Select(row => string.Join(',', row.Select(CsvField))));
}
