using Spectre.Console;

namespace LowRank.Cli;

/// <summary>Tables shared by the commands.</summary>
internal static class Tables
{
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
}
