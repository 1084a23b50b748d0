using System;
using System.CommandLine;
using System.Text.Json;
using MathNet.Numerics.LinearAlgebra;

namespace LowRank.Cli;

/// <summary><c>lowrank compress</c>: a layer's rank-k factors from what the layer sees (its inputs, their covariance,
/// the output gradient's covariance, or Fisher weights with the inputs).</summary>
internal static class CompressCommand
{
    public static Command Create(Terminal terminal)
    {
        var layer = new Argument<string>("layer") { Description = "The layer A (inputs n x outputs d, y = x A): a 2-D .npy or .csv file." };
        var inputs = new Option<string?>("--inputs", "-x") { Description = "The layer's inputs X (N x n, an example per row)." };
        var covariance = new Option<string?>("--covariance") { Description = "Instead of --inputs: C = X^T X / N (n x n)." };
        var outputCovariance = new Option<string?>("--output-covariance")
        {
            Description = "G (d x d), the loss gradient's second moment at the outputs: two-sided (K-FAC) compression.",
        };
        var weights = new Option<string?>("--weights", "-w")
        {
            Description = "Elementwise weights W (n x d), e.g. sqrt(Fisher): with the inputs, data-and-weights compression "
                + "(alone, use 'lowrank wlra').",
        };
        var rank = Options.Rank();
        var ridge = new Option<double>("--ridge")
        {
            Description = "Ridge added to each covariance, relative to its mean eigenvalue (keeps a singular C stable).",
            DefaultValueFactory = _ => 1e-4,
        };
        var output = new Option<string?>("--out", "-o")
        {
            Description = "Prefix of <prefix>.left.npy (n x k) and <prefix>.right.npy (k x d), whose product is A~.",
        };
        var json = Options.Json();

        var command = new Command(
            "compress",
            "Compress a linear layer to rank k with what it sees: --inputs (data-aware, min ||X (A - A~)||_F), plus "
                + "--output-covariance (two-sided, the Kronecker-factored Fisher) or --weights (data-and-weights)."
        );
        Options.Add(command, layer, inputs, covariance, outputCovariance, weights, rank, ridge, output, json);

        command.SetAction(parsed =>
        {
            if (parsed.GetValue(output) is { } outputPrefix)
                Inputs.RequireFolderOf(outputPrefix, "--out");
            var a = Inputs.ReadMatrix(parsed.GetRequiredValue(layer), "layer");
            var c = (parsed.GetValue(inputs), parsed.GetValue(covariance)) switch
            {
                ({ } x, null) => Compression.InputCovariance(Inputs.ReadMatrix(x, "--inputs")),
                (null, { } path) => Inputs.ReadMatrix(path, "--covariance"),
                (null, null) => throw new ArgumentException(
                    "compress needs what the layer sees: --inputs X.npy or --covariance C.npy (Fisher weights alone: 'lowrank wlra')."),
                _ => throw new ArgumentException("Give the inputs once: --inputs or --covariance, not both."),
            };
            var k = parsed.GetValue(rank);
            var lambda = parsed.GetValue(ridge);
            var result = (parsed.GetValue(outputCovariance), parsed.GetValue(weights)) switch
            {
                ({ } g, null) => Compression.TwoSided(a, c, Inputs.ReadMatrix(g, "--output-covariance"), k, lambda),
                (null, { } w) => Compression.DataAndWeights(a, c, Weights.FromMatrix(Inputs.ReadMatrix(w, "--weights")), k, lambda),
                (null, null) => Compression.DataAware(a, c, k, lambda),
                _ => throw new ArgumentException("Give --output-covariance or --weights, not both."),
            };

            var prefix = parsed.GetValue(output);
            if (prefix is not null)
            {
                Npy.WriteMatrix($"{prefix}.left.npy", result.Left);
                Npy.WriteMatrix($"{prefix}.right.npy", result.Right);
            }

            if (parsed.GetValue(json))
            {
                terminal.Output.WriteLine(JsonSerializer.Serialize(new
                {
                    method = result.Method,
                    rank = result.Rank,
                    parameters = result.Parameters,
                    dense = a.RowCount * a.ColumnCount,
                    objective = result.Objective,
                    relativeObjective = result.RelativeObjective,
                }, Json.Options));
                return 0;
            }

            terminal.Console.Write(
                Tables.Facts(
                    ("layer", $"{a.RowCount} x {a.ColumnCount}"),
                    ("method", result.Method),
                    ("rank", $"{result.Rank}"),
                    ("parameters", $"{result.Parameters} (dense: {a.RowCount * a.ColumnCount})"),
                    ("objective", $"{result.Objective:G6}"),
                    ("relative objective", $"{result.RelativeObjective:G4}"),
                    ("written", prefix is null ? "nothing (--out writes the factors)" : $"{prefix}.left.npy, {prefix}.right.npy")
                )
            );
            return 0;
        });
        return command;
    }
}
