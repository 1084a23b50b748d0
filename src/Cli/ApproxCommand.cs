using System;
using System.CommandLine;
using System.Linq;

namespace LowRank.Cli;

/// <summary><c>lowrank approx</c>: SCW(S, A) of one matrix with a sketch file (or a random CountSketch), written as
/// its two factors.</summary>
internal sealed class ApproxCommand(Terminal terminal)
{
    private readonly Argument<string> matrix = new Argument<string>("matrix")
    {
        Description = "The matrix A (n x d): a 2-D .npy or a .csv file, or a stack with --select choosing one.",
    };

    private readonly Option<string?> select = new Option<string?>("--select") { Description = "The index of the matrix in a stack (e.g. 500, or -1 for the last)." };

    private readonly Option<string?> sketch = new Option<string?>("--sketch", "-s")
    {
        Description = "The sketch file (m x n); without it, a random CountSketch of --rows rows and --seed.",
    };

    private readonly Option<int> rows = new Option<int>("--rows", "-m")
    {
        Description = "Rows of the random CountSketch used without --sketch (or k + --oversample).",
        DefaultValueFactory = _ => 20,
    };

    private readonly Option<int> seed = Options.Seed("the random CountSketch used without --sketch");

    private readonly Option<int> rank = Options.Rank();

    private readonly Option<string> output = new Option<string>("--out", "-o")
    {
        Description = "Prefix of the output files: <prefix>.left.npy (n x k) and <prefix>.right.npy (k x d), whose "
            + "product is the approximation.",
        DefaultValueFactory = _ => "approx",
    };

    private readonly Option<bool> stream = new Option<bool>("--stream")
    {
        Description = "Read the .npy matrix in blocks of rows, in two passes (the next block read while one is used), with memory O(m d + "
            + "block d): for matrices larger than memory. Without --sketch it uses the counter-based CountSketch of "
            + "--rows and --seed (built block by block). The optimal error is not computed (it needs the whole matrix).",
    };

    private readonly Option<int> blockRows = new Option<int>("--block-rows")
    {
        Description = "Rows per block with --stream.",
        DefaultValueFactory = _ => 4096,
    };

    private readonly Option<int> power = new Option<int>("--power", "-q")
    {
        Description = "Power (subspace) iterations after the sketch (Halko, Martinsson and Tropp 2011): each costs two "
            + "more products with A and brings the error towards the optimum on slowly decaying spectra; 0 is SCW. "
            + "In memory, with --stream (one more pass over the file each) and under mpirun (one Allreduce each).",
        DefaultValueFactory = _ => 0,
    };

    private readonly Option<int?> oversample = new Option<int?>("--oversample", "-p")
    {
        Description = "Without --sketch: a random CountSketch of k + p rows instead of --rows.",
    };

    private readonly Option<bool> optimal = new Option<bool>("--optimal")
    {
        Description = "Also compute the optimal error ||A - [A]_k||_F by a full SVD (in memory; costly on big matrices) "
            + "and the ratio to it.",
    };

    public static Command Create(Terminal terminal) => new ApproxCommand(terminal).Build();

    private Command Build()
    {
        var command = new Command(
            "approx",
            "Approximate a matrix by SCW(S, A) = [A V]_k V^T, with V from the SVD of S A (Sarlos; Clarkson and Woodruff), "
                + "and write the rank-k factors as .npy files."
        );
        Options.Add(command, matrix, select, sketch, rows, seed, rank, output, stream, blockRows, power, oversample, optimal);

        // The token is Ctrl-C's: a streamed run stops within one block and leaves no output file.
        command.SetAction((parsed, cancellationToken) => System.Threading.Tasks.Task.FromResult(Run(parsed, cancellationToken)));
        return command;
    }

    private int Run(ParseResult parsed, System.Threading.CancellationToken cancellationToken)
    {
        Tables.WarmInBackground();
        Inputs.RequireFolderOf(parsed.GetRequiredValue(output), "--out");
        if ((parsed.GetValue(stream) || Mpi.Communicator is not null) && parsed.GetValue(select) is { } chosen)
            throw new ArgumentException(
                $"Expected no --select with --stream or under mpirun (they read a 2-D .npy file by rows), but --select is {chosen}.",
                "--select");
        if (Mpi.Communicator is not null && parsed.GetValue(stream))
            throw new ArgumentException(
                "Expected no --stream under mpirun: each rank holds its n / p rows in memory; use more ranks for a larger matrix.",
                "--stream");
        if (parsed.GetValue(power) < 0)
            throw new ArgumentException($"--power: expected a whole number >= 0, but it is {parsed.GetValue(power)}.");
        if (parsed.GetValue(oversample) is < 0)
            throw new ArgumentException($"--oversample: expected a whole number >= 0, but it is {parsed.GetValue(oversample)}.");
        if (parsed.GetValue(oversample) is not null && parsed.GetValue(sketch) is not null)
            throw new ArgumentException("--oversample sizes the random sketch; give it or --sketch, not both.");
        if (parsed.GetValue(stream) && parsed.GetValue(optimal))
            throw new ArgumentException("--optimal needs the whole matrix in memory (a full SVD); give it without --stream.");
        if (Mpi.Communicator is not null && parsed.GetValue(optimal))
            throw new ArgumentException("--optimal needs the whole matrix in one memory (a full SVD); give it without mpirun.");
        // The random sketch's rows: k + p with --oversample, else --rows.
        var m = parsed.GetValue(oversample) is { } p ? parsed.GetValue(rank) + p : parsed.GetValue(rows);
        if (Mpi.Communicator is { } mpi)
            return Distributed(parsed, terminal, mpi, matrix, sketch, m, seed, rank, output, power);
        if (parsed.GetValue(stream))
            return Streamed(parsed, terminal, matrix, sketch, m, seed, rank, output, blockRows, power, cancellationToken);
        // A 2-D .npy file is used as it lies, by rows (A^T in column-major storage): transposing it into MathNet's
        // column-major A took a quarter of the whole command on an 80,000 x 768 matrix.
        var path = parsed.GetRequiredValue(matrix);
        var byRows = Inputs.ReadsByRows(path, parsed.GetValue(select));
        var a = byRows ? Npy.ReadTransposed(path) : Inputs.ReadMatrix(path, "matrix", parsed.GetValue(select));
        var (n, d) = byRows ? (a.ColumnCount, a.RowCount) : (a.RowCount, a.ColumnCount);
        var file = parsed.GetValue(sketch);
        var s = file is null
            ? Sketch.CountSketch(m, n, parsed.GetValue(seed))
            : SketchFile.Load(file);
        var k = parsed.GetValue(rank);
        var q = parsed.GetValue(power);
        LowRankApproximation approximation;
        double error;
        try
        {
            // By rows, the error comes with the approximation: ||A||_F from the sketch's pass over A.
            (approximation, error) = byRows
                ? Scw.ApproximateTransposedWithPowerAndError(a, s, k, q)
                : (q == 0 ? Scw.Approximate(a, s, k) : Scw.ApproximateWithPower(a, s, k, q), double.NaN);
        }
        catch (ArgumentException) when (byRows)
        {
            // The library checks A's entries in its first pass over A (no pass of the command's own); a NaN or infinity
            // is then reported in the file's terms.
            Inputs.RequireFiniteTransposed(a, path, "matrix");
            throw;
        }
        var prefix = parsed.GetRequiredValue(output);
        Npy.WriteMatrix($"{prefix}.left.npy", approximation.Left);
        Npy.WriteMatrix($"{prefix}.right.npy", approximation.Right);

        // The approximation projects A onto its row space: its error follows from ||A||_F, one pass over A, and the
        // n x d approximation is never formed.
        if (!byRows)
            error = Scw.ProjectionError(a, approximation);
        var facts = new System.Collections.Generic.List<(string, string)>
        {
            ("matrix", $"{n} x {d}"),
            ("sketch", file ?? $"random CountSketch, {s.Rows} rows, seed {parsed.GetValue(seed)}"),
            ("power iterations", $"{q}"),
            ("rank", $"{approximation.Rank}"),
            ("||A - A~||_F", $"{error:G6}"),
        };
        // The optimum needs a full SVD, which costs more than everything above on a big matrix: only when asked.
        if (parsed.GetValue(optimal))
        {
            // A and A^T have the same singular values, so the optimum is the same from either.
            var best = Svd.OptimalError(a, k);
            facts.Add(("||A - [A]_k||_F (optimal)", $"{best:G6}"));
            facts.Add(("ratio", best > 0 ? $"{error / best:0.0000}" : "-"));
        }
        facts.Add(("written", $"{prefix}.left.npy, {prefix}.right.npy"));
        terminal.Console.Write(Tables.Facts([.. facts]));
        return 0;
    }

    /// <summary>The sketch of --sketch, else the counter-based CountSketch of `rows` rows and --seed.</summary>
    private static BlockSketch BlockSketchOf(ParseResult parsed, Option<string?> sketch, int rows, Option<int> seed) =>
        parsed.GetValue(sketch) is { } file
            ? BlockSketch.Of(SketchFile.Load(file))
            : BlockSketch.Hashed(parsed.GetValue(seed), rows);

    private static string SketchText(ParseResult parsed, Option<string?> sketch, int rows, Option<int> seed) =>
        parsed.GetValue(sketch) ?? $"counter-based CountSketch, {rows} rows, seed {parsed.GetValue(seed)}";

    /// <summary>--stream: two passes over row blocks of the .npy file; the left factor goes to its file as it is formed.</summary>
    private static int Streamed(
        ParseResult parsed, Terminal terminal, Argument<string> matrix, Option<string?> sketch, int rows,
        Option<int> seed, Option<int> rank, Option<string> output, Option<int> blockRows, Option<int> power,
        System.Threading.CancellationToken cancellationToken)
    {
        var path = parsed.GetRequiredValue(matrix);
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"Expected a 2-D .npy file with --stream, but matrix is '{path}'.", "matrix");
        var prefix = parsed.GetRequiredValue(output);
        var q = parsed.GetValue(power);
        var result = Streaming.ApproximateFileWithPower(
            path, BlockSketchOf(parsed, sketch, rows, seed), parsed.GetValue(rank), q, parsed.GetValue(blockRows), $"{prefix}.left.npy",
            null, cancellationToken);
        Npy.WriteMatrix($"{prefix}.right.npy", result.Right);
        terminal.Console.Write(
            Tables.Facts(
                ("matrix", $"{result.Rows} x {result.Right.ColumnCount}, streamed in blocks of {parsed.GetValue(blockRows)} rows"),
                ("sketch", SketchText(parsed, sketch, rows, seed)),
                ("power iterations", $"{q} ({q + 2} passes over A)"),
                ("rank", $"{result.SingularValues.Count}"),
                ("||A - A~||_F", $"{result.Error:G6}"),
                ("written", $"{prefix}.left.npy, {prefix}.right.npy")
            )
        );
        return 0;
    }

    /// <summary>Under mpirun: each rank reads its own rows of the .npy file, SCW runs distributed, rank 0 gathers the
    /// left factor (n x k, small) and writes both factors and prints.</summary>
    private static int Distributed(
        ParseResult parsed, Terminal terminal, ICommunicator mpi, Argument<string> matrix, Option<string?> sketch,
        int rows, Option<int> seed, Option<int> rank, Option<string> output, Option<int> power)
    {
        var path = parsed.GetRequiredValue(matrix);
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"Expected a 2-D .npy file under mpirun, but matrix is '{path}'.", "matrix");
        var shape = Npy.Shape(path);
        if (shape.Length != 2)
            throw new ArgumentException($"Expected a 2-D .npy file under mpirun, but {path} has shape ({string.Join(", ", shape)}).", "matrix");
        var n = shape[0];
        var first = (int)((long)n * mpi.Rank / mpi.Size);
        var last = (int)((long)n * (mpi.Rank + 1) / mpi.Size);
        var part = Npy.ReadRows(path, first, last - first);
        var traffic = new Traffic();
        var counted = Communicator.Counting(traffic, mpi);
        var q = parsed.GetValue(power);
        var mine = LowRank.Distributed.ApproximateWithPower(counted, part, BlockSketchOf(parsed, sketch, rows, seed), parsed.GetValue(rank), q);
        var left = LowRank.Distributed.GatherRows(mpi, mine.Left);
        var bytes = mpi.AllreduceSum([traffic.Bytes])[0];
        if (mpi.Rank != 0)
            return 0;
        var prefix = parsed.GetRequiredValue(output);
        Npy.WriteMatrix($"{prefix}.left.npy", left);
        Npy.WriteMatrix($"{prefix}.right.npy", mine.Right);
        terminal.Console.Write(
            Tables.Facts(
                ("matrix", $"{n} x {shape[1]}, rows split over {mpi.Size} ranks"),
                ("sketch", SketchText(parsed, sketch, rows, seed)),
                ("power iterations", $"{q}"),
                ("rank", $"{mine.SingularValues.Count}"),
                ("||A - A~||_F", $"{mine.Error:G6}"),
                ("communicated", $"{bytes:N0} bytes over all ranks, {traffic.Rounds} rounds (SCW; gathering the left factor not counted)"),
                ("written", $"{prefix}.left.npy, {prefix}.right.npy")
            )
        );
        return 0;
    }
}