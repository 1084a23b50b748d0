using System.CommandLine;

namespace LowRank.Cli;

/// <summary><c>lowrank approx</c>: SCW(S, A) of one matrix with a sketch file (or a random CountSketch), written as
/// its two factors.</summary>
internal static class ApproxCommand
{
    public static Command Create(Terminal terminal)
    {
        var matrix = new Argument<string>("matrix")
        {
            Description = "The matrix A (n x d): a 2-D .npy or a .csv file, or a stack with --select choosing one.",
        };
        var select = new Option<string?>("--select") { Description = "The index of the matrix in a stack (e.g. 500, or -1 for the last)." };
        var sketch = new Option<string?>("--sketch", "-s")
        {
            Description = "The sketch file (m x n); without it, a random CountSketch of --rows rows and --seed.",
        };
        var rows = new Option<int>("--rows", "-m")
        {
            Description = "Rows of the random CountSketch used without --sketch.",
            DefaultValueFactory = _ => 20,
        };
        var seed = Options.Seed("the random CountSketch used without --sketch");
        var rank = Options.Rank();
        var output = new Option<string>("--out", "-o")
        {
            Description = "Prefix of the output files: <prefix>.left.npy (n x k) and <prefix>.right.npy (k x d), whose "
                + "product is the approximation.",
            DefaultValueFactory = _ => "approx",
        };

        var command = new Command(
            "approx",
            "Approximate a matrix by SCW(S, A) = [A V]_k V^T, with V from the SVD of S A (Sarlos; Clarkson and Woodruff), "
                + "and write the rank-k factors as .npy files."
        );
        Options.Add(command, matrix, select, sketch, rows, seed, rank, output);

        command.SetAction(parsed =>
        {
            Inputs.RequireFolderOf(parsed.GetRequiredValue(output), "--out");
            var a = Inputs.ReadMatrix(parsed.GetRequiredValue(matrix), "matrix", parsed.GetValue(select));
            var file = parsed.GetValue(sketch);
            var s = file is null
                ? Sketch.CountSketch(parsed.GetValue(rows), a.RowCount, parsed.GetValue(seed))
                : SketchFile.Load(file);
            var k = parsed.GetValue(rank);
            var approximation = Scw.Approximate(a, s, k);
            var prefix = parsed.GetRequiredValue(output);
            Npy.WriteMatrix($"{prefix}.left.npy", approximation.Left);
            Npy.WriteMatrix($"{prefix}.right.npy", approximation.Right);

            // LowRank's scaled norm: MathNet's FrobeniusNorm overflows to Infinity for entries near 1e300 and underflows to 0 near 1e-300.
            var error = Norm.Frobenius(a - approximation.ToMatrix());
            var optimal = Svd.OptimalError(a, k);
            terminal.Console.Write(
                Tables.Facts(
                    ("matrix", $"{a.RowCount} x {a.ColumnCount}"),
                    ("sketch", file ?? $"random CountSketch, {s.Rows} rows, seed {parsed.GetValue(seed)}"),
                    ("rank", $"{approximation.Rank}"),
                    ("||A - SCW(S, A)||_F", $"{error:G6}"),
                    ("||A - [A]_k||_F (optimal)", $"{optimal:G6}"),
                    ("ratio", optimal > 0 ? $"{error / optimal:0.0000}" : "-"),
                    ("written", $"{prefix}.left.npy, {prefix}.right.npy")
                )
            );
            return 0;
        });
        return command;
    }
}
