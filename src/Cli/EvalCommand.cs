using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Spectre.Console;

namespace LowRank.Cli;

/// <summary><c>lowrank eval</c>: the paper's test error Err(Te, S) of sketch files and of a fresh random CountSketch.</summary>
internal static class EvalCommand
{
    public static Command Create(Terminal terminal)
    {
        var data = new Argument<string>("test-data")
        {
            Description = "The test matrices: a 3-D .npy stack, a folder of .npy files, an IDX file or a video.",
        };
        var select = Options.Select();
        var sketches = new Option<string[]>("--sketch", "-s")
        {
            Description = "A sketch file to evaluate; repeat for several.",
            AllowMultipleArgumentsPerToken = true,
        };
        var rank = Options.Rank();
        var randomRows = new Option<int>("--random-rows")
        {
            Description = "Rows of the random CountSketch baseline; 0 uses the first sketch's rows, or 20 without one.",
            DefaultValueFactory = _ => 0,
        };
        var randomSeed = new Option<int>("--random-seed")
        {
            Description = "Seed of the random CountSketch baseline.",
            DefaultValueFactory = _ => 0,
        };
        var normalize = Options.Normalize();
        var json = Options.Json();
        var csv = Options.CsvFile();

        var command = new Command(
            "eval",
            "Test error Err(Te, S) = mean ||A - SCW(S, A)||_F - mean ||A - [A]_k||_F over the test matrices (Indyk, "
                + "Vakilian and Yuan 2019, Section 5) of each sketch file and of a random CountSketch."
        );
        Options.Add(command, data, select, sketches, rank, randomRows, randomSeed, normalize, json, csv);

        command.SetAction(parsed =>
        {
            var csvPath = parsed.GetValue(csv);
            if (csvPath is not null)
                Inputs.RequireFolderOf(csvPath, "--csv");
            var test = Inputs.ReadStack(parsed.GetRequiredValue(data), parsed.GetValue(select), "test-data");
            var k = parsed.GetValue(rank);
            var normalization = Options.NormalizationOf(parsed.GetRequiredValue(normalize));
            var files = parsed.GetValue(sketches) ?? [];
            var candidates = files.Select(file => (Name: file, Sketch: SketchFile.Load(file))).ToList();

            var rows = parsed.GetValue(randomRows);
            if (rows == 0)
                rows = candidates.Count > 0 ? candidates[0].Sketch.Rows : 20;
            var seed = parsed.GetValue(randomSeed);
            candidates.Add(($"random CountSketch (seed {seed})", Sketch.CountSketch(rows, test[0].RowCount, seed)));

            foreach (var (name, sketch) in candidates)
            {
                if (sketch.Columns != test[0].RowCount)
                    throw new ArgumentException(
                        $"--sketch: '{name}' is {sketch.Rows} x {sketch.Columns}, but the test matrices have {test[0].RowCount} rows; "
                            + "a sketch needs as many columns as they have rows.");
            }

            // One SVD per test matrix for all sketches: their optimum and normalization are shared.
            var errors = Scw.TestErrors(test, candidates.Select(c => c.Sketch), k, normalization);
            var results = candidates
                .Select((c, i) => new EvalResult(c.Name, c.Sketch.Rows, c.Sketch.Columns, errors[i]))
                .ToList();

            if (csvPath is not null)
                Tables.WriteCsv(csvPath, ["sketch", "rows", "columns", "rank", "normalization", "test_matrices", "test_error"],
                    results.Select(r => new[] { r.Sketch, $"{r.Rows}", $"{r.Columns}", $"{k}", normalization.ToString(), $"{test.Length}", Tables.CsvNumber(r.TestError) }));

            if (parsed.GetValue(json))
            {
                var report = new EvalReport(k, normalization.ToString(), test.Length, test[0].RowCount, test[0].ColumnCount, results);
                terminal.Output.WriteLine(JsonSerializer.Serialize(report, Json.Options));
                return 0;
            }

            // Err(Te, S) averages over every test matrix; an all-zero one (a black frame) has error 0 for any sketch.
            var zeros = test.Count(m => m.Enumerate().All(v => v == 0));
            if (zeros > 0)
                terminal.Console.WriteLine(
                    $"Note: {zeros} of {test.Length} test matrices are all zero; each counts as error 0 in the average for every sketch.");

            var table = new Table()
                .AddColumn("sketch")
                .AddColumn(new TableColumn("shape").RightAligned())
                .AddColumn(new TableColumn("Err(Te, S)").RightAligned());
            foreach (var result in results)
                table.AddRow(Markup.Escape(result.Sketch), $"{result.Rows} x {result.Columns}", $"{result.TestError:0.000000}");
            terminal.Console.WriteLine(
                $"Test error at rank {k} on {test.Length} matrices of {test[0].RowCount} x {test[0].ColumnCount} "
                    + $"(normalization: {normalization}); lower is better, 0 is the optimum."
            );
            terminal.Console.Write(table);
            if (csvPath is not null)
                terminal.Console.WriteLine($"Wrote {csvPath}.");
            return 0;
        });
        return command;
    }

    internal sealed record EvalResult(string Sketch, int Rows, int Columns, double TestError);

    internal sealed record EvalReport(
        int Rank,
        string Normalization,
        int TestMatrices,
        int MatrixRows,
        int MatrixColumns,
        IReadOnlyList<EvalResult> Results
    );
}

/// <summary>One JSON style for every --json output: camelCase names, indented.</summary>
internal static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
    };
}
