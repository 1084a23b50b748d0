using System;
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using MathNet.Numerics.LinearAlgebra;
using Onnx;

namespace LowRank.Onnx;

/// <summary>Writing a MatMul in the pivoted form (<see cref="PivotedFactors"/>), and leaving its columns in pivot order
/// where the next MatMul can take them so.</summary>
internal static partial class OnnxGraph
{
    /// <summary>Layers whose pivoted outputs stay in pivot order, and the factors with the rows of their consumers
    /// permuted to match (null: the given factors).</summary>
    internal sealed record Absorption(HashSet<string> Layers, IReadOnlyDictionary<string, Factors>? Factors)
    {
        public static readonly Absorption None = new([], null);
    }

    /// <summary>Operators that act on each element alone (with scalars or per-column vectors as their other inputs), so a
    /// permutation of the last axis passes through them when their per-column constants are permuted too.</summary>
    private static readonly HashSet<string> Elementwise =
        ["Add", "Sub", "Mul", "Div", "Erf", "Relu", "Tanh", "Sigmoid", "Gelu", "FastGelu", "Sqrt", "Exp", "Neg", "Identity"];

    /// <summary>y = x A~ in the pivoted form: y_P = x B, y_Q = y_P C, then the columns put back in their order,
    /// y = Gather(Concat(y_P, y_Q), order) on the last axis (order[j] is column j's place in P followed by Q); without
    /// `restoreOrder` the Concat writes the output, in the order P then Q.</summary>
    private static NodeProto[] PivotedNodes(GraphProto graph, ModelLayer layer, NodeProto node, string nodeName, PivotedFactors p,
        bool legacyInputs, bool restoreOrder)
    {
        string columns = layer.WeightName + "_lowrank_columns", coefficients = layer.WeightName + "_lowrank_coefficients",
            order = layer.WeightName + "_lowrank_order";
        string pivotOutputs = node.Output[0] + "_lowrank_pivots", otherOutputs = node.Output[0] + "_lowrank_others",
            joined = restoreOrder ? node.Output[0] + "_lowrank_joined" : node.Output[0];
        var others = p.Others;
        var tensors = new List<TensorProto> { FloatTensor(columns, [layer.Inputs, p.Rank], RowMajor(p.Columns, false)) };
        var nodes = new List<NodeProto>
        {
            Node("MatMul", nodeName + "_pivots", [node.Input[0], columns], [others.Length > 0 || restoreOrder ? pivotOutputs : joined]),
        };
        var axis = new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 };
        if (others.Length > 0)
        {
            tensors.Add(FloatTensor(coefficients, [p.Rank, others.Length], RowMajor(p.Coefficients, false)));
            nodes.Add(Node("MatMul", nodeName + "_others", [pivotOutputs, coefficients], [otherOutputs]));
            var concat = Node("Concat", nodeName + "_join", [pivotOutputs, otherOutputs], [joined]);
            concat.Attribute.Add(axis.Clone());
            nodes.Add(concat);
        }
        if (restoreOrder)
        {
            var sequence = Sequence(p);
            var place = new long[sequence.Length];
            for (var i = 0; i < sequence.Length; i++)
                place[sequence[i]] = i;
            var orderTensor = new TensorProto { Name = order, DataType = Int64Type };
            orderTensor.Dims.Add(place.Length);
            orderTensor.Int64Data.AddRange(place);
            tensors.Add(orderTensor);
            var gather = Node("Gather", nodeName + "_order", [others.Length > 0 ? joined : pivotOutputs, order], [node.Output[0]]);
            gather.Attribute.Add(axis);
            nodes.Add(gather);
        }
        foreach (var t in tensors)
            AddConstant(graph, t, legacyInputs);
        return nodes.ToArray();
    }

    /// <summary>The columns in the order the pivoted form computes them: P, then Q.</summary>
    private static int[] Sequence(PivotedFactors p) => [.. p.Pivots, .. p.Others];

    /// <summary>Finds each pivoted MatMul whose output reaches exactly one factored MatMul, as its first input, through
    /// elementwise nodes whose other inputs are scalars or vectors along the last axis; permutes those vectors (in the
    /// graph) and the rows of that MatMul's factors into pivot order.</summary>
    private static Absorption AbsorbOrders(GraphProto graph, IReadOnlyList<ModelLayer> layers, IReadOnlyDictionary<string, Factors> factors,
        bool legacyInputs)
    {
        var absorbed = new HashSet<string>();
        var permuted = new Dictionary<string, Factors>(factors);
        var byNode = layers.ToDictionary(l => l.NodeIndex);
        foreach (var layer in layers)
        {
            if (layer.Kind != LayerKind.MatMul || !factors.TryGetValue(layer.Name, out var f) || f.Pivoted is not { Rank: > 0 } p)
                continue;
            var region = ElementwiseRegion(graph, graph.Node[layer.NodeIndex].Output[0], layer.Outputs);
            if (region is null)
                continue;
            var (nodes, vectors, consumer) = region.Value;
            // Only into a consumer that is itself factored: a layer left dense keeps its weight as it was.
            if (!byNode.TryGetValue(consumer, out var consumerLayer) || !permuted.TryGetValue(consumerLayer.Name, out var next))
                continue;
            var sequence = Sequence(p);
            var originals = vectors.Select(v => graph.Node[v.Node].Input[v.Input]).Distinct().ToList();
            foreach (var (nodeIndex, input) in vectors)
            {
                var node = graph.Node[nodeIndex];
                var tensor = graph.Initializer.First(t => t.Name == node.Input[input]);
                var values = Floats(tensor);
                var copy = FloatTensor($"{tensor.Name}_lowrank_order_{nodeIndex}", tensor.Dims.ToArray(),
                    sequence.Select(j => values[j]).ToArray());
                AddConstant(graph, copy, legacyInputs);
                node.Input[input] = copy.Name;
            }
            // The consumer reads row sequence[i] of its weight at input position i. The pivots depend on Right alone, so a
            // pivoted consumer's form is its own with B's rows permuted.
            var left = Rows(next.Left, sequence);
            permuted[byNode[consumer].Name] = next with
            {
                Left = left,
                Pivoted = next.Pivoted is null ? null : PivotedFactors.OfFactors(left, next.Right),
            };
            foreach (var name in originals)
                DropIfUnused(graph, name);
            absorbed.Add(layer.Name);
        }
        return new Absorption(absorbed, permuted);
    }

    private static Matrix<double> Rows(Matrix<double> m, int[] sequence) =>
        Matrix<double>.Build.Dense(m.RowCount, m.ColumnCount, (i, j) => m[sequence[i], j]);

    /// <summary>Removes an initializer (and its graph input entry) that no node reads any more.</summary>
    private static void DropIfUnused(GraphProto graph, string name)
    {
        if (graph.Node.Any(n => n.Input.Contains(name)) || graph.Output.Any(o => o.Name == name))
            return;
        var tensor = graph.Initializer.FirstOrDefault(t => t.Name == name);
        if (tensor is not null)
            graph.Initializer.Remove(tensor);
        var input = graph.Input.FirstOrDefault(i => i.Name == name);
        if (input is not null)
            graph.Input.Remove(input);
    }

    /// <summary>The elementwise nodes between `tensor` (width d on its last axis) and the one MatMul it reaches, with the
    /// (node, input) positions of their per-column constant vectors; null when anything else reads those tensors (a graph
    /// output, another operator, a second MatMul, a constant of another shape).</summary>
    private static (List<int> Nodes, List<(int Node, int Input)> Vectors, int Consumer)? ElementwiseRegion(GraphProto graph, string tensor,
        int d)
    {
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var outputs = graph.Output.Select(o => o.Name).ToHashSet();
        // Forward from the tensor: every reader is an elementwise node (whose output is followed in turn) or the one MatMul.
        var inside = new HashSet<string> { tensor };
        var pending = new Queue<string>([tensor]);
        var nodes = new SortedSet<int>();
        var consumer = -1;
        while (pending.Count > 0)
        {
            var name = pending.Dequeue();
            if (outputs.Contains(name))
                return null;
            for (var i = 0; i < graph.Node.Count; i++)
            {
                var node = graph.Node[i];
                if (!node.Input.Contains(name) || nodes.Contains(i))
                    continue;
                if (node.OpType == "MatMul" && node.Input[0] == name && node.Input[1] != name
                    && initializers.TryGetValue(node.Input[1], out var w) && w.Dims.Count == 2 && w.Dims[0] == d && w.DataType == FloatType)
                {
                    if (consumer >= 0 && consumer != i)
                        return null;
                    consumer = i;
                    continue;
                }
                if (!Elementwise.Contains(node.OpType) || node.Output.Count != 1)
                    return null;
                nodes.Add(i);
                if (inside.Add(node.Output[0]))
                    pending.Enqueue(node.Output[0]);
            }
        }
        if (consumer < 0)
            return null;
        // Then every other input of those nodes must be a scalar or a vector along the last axis, which is permuted.
        var scalars = new HashSet<string>(graph.Node.Where(n => n.OpType == "Constant" && IsScalarConstant(n)).Select(n => n.Output[0]));
        var vectors = new List<(int, int)>();
        foreach (var i in nodes)
        {
            var node = graph.Node[i];
            for (var j = 0; j < node.Input.Count; j++)
            {
                var input = node.Input[j];
                if (inside.Contains(input) || scalars.Contains(input))
                    continue;
                if (!initializers.TryGetValue(input, out var c) || c.DataType != FloatType)
                    return null;
                var count = c.Dims.Aggregate(1L, (a, b) => a * b);
                if (count == d && c.Dims.Count >= 1 && c.Dims[^1] == d)
                    vectors.Add((i, j));
                else if (count != 1)
                    return null;
            }
        }
        return (nodes.ToList(), vectors, consumer);
    }

    private static bool IsScalarConstant(NodeProto node) =>
        node.Attribute.Any(a => a.Name is "value_float" or "value_int")
        || node.Attribute.FirstOrDefault(a => a.Name == "value") is { T: { } t } && t.Dims.Aggregate(1L, (a, b) => a * b) == 1;
}
