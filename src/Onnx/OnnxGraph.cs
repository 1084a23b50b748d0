using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Google.Protobuf;
using MathNet.Numerics.LinearAlgebra;
using Onnx;

namespace LowRank.Onnx;

/// <summary>A Conv's geometry over a 2-D input: what its patches are.</summary>
internal sealed record ConvGeometry(int Channels, int KernelH, int KernelW, int StrideH, int StrideW, int DilationH, int DilationW,
    int PadTop, int PadLeft, int PadBottom, int PadRight, string AutoPad)
{
    /// <summary>The output size along one axis, and the padding before it, for an input of `size` (ONNX's Conv rules).</summary>
    public (int Output, int PadBefore) Axis(int size, int kernel, int stride, int dilation, int padBefore, int padAfter)
    {
        var extent = (kernel - 1) * dilation + 1;
        if (AutoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            var output = (size + stride - 1) / stride;
            var total = Math.Max(0, (output - 1) * stride + extent - size);
            return (output, AutoPad == "SAME_UPPER" ? total / 2 : total - total / 2);
        }
        if (AutoPad == "VALID")
            return ((size - extent) / stride + 1, 0);
        return ((size + padBefore + padAfter - extent) / stride + 1, padBefore);
    }

    /// <summary>A key that two Convs share exactly when their patches of the same input are the same.</summary>
    public string Key => $"{KernelH}x{KernelW}/s{StrideH},{StrideW}/d{DilationH},{DilationW}/p{PadTop},{PadLeft},{PadBottom},{PadRight}/{AutoPad}";
}

/// <summary>Reading, inspecting and rewriting ONNX graphs (the protobuf classes of OnnxSharp).</summary>
internal static partial class OnnxGraph
{
    private const int FloatType = 1;
    private const int Int64Type = 7;

    /// <summary>Reads and checks a model file: one clear InvalidDataException when it is not an ONNX model.</summary>
    public static ModelProto Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The model '{path}' does not exist.", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    public static ModelProto Parse(byte[] bytes, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"'{source}' is not an ONNX model (or is truncated): {e.Message}", e);
        }
        if (model.Graph is null || model.Graph.Node.Count == 0 || model.Graph.Output.Count == 0)
            throw new InvalidDataException($"'{source}' is not an ONNX model: it has no graph with nodes and outputs.");
        if (model.Graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External))
            throw new InvalidDataException($"'{source}' keeps weights in external data files, which LowRank.Onnx does not read.");
        return model;
    }

    private static string NodeName(NodeProto node, int index) =>
        string.IsNullOrEmpty(node.Name) ? $"{node.OpType}_{index}" : node.Name;

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    private static long IntAttribute(NodeProto node, string name, long fallback) => Attribute(node, name)?.I ?? fallback;

    private static long[] IntsAttribute(NodeProto node, string name, long[] fallback)
    {
        var attribute = Attribute(node, name);
        return attribute is null || attribute.Ints.Count == 0 ? fallback : attribute.Ints.ToArray();
    }

    /// <summary>The compressible layers, in graph order: nodes whose constant float weight is used by that node alone.</summary>
    public static List<ModelLayer> Layers(ModelProto model)
    {
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var uses = new Dictionary<string, int>();
        foreach (var name in graph.Node.SelectMany(n => n.Input))
            uses[name] = uses.GetValueOrDefault(name) + 1;
        bool Constant(string name, int dims, out TensorProto tensor) =>
            initializers.TryGetValue(name, out tensor!) && tensor.Dims.Count == dims && tensor.DataType == FloatType
            && uses.GetValueOrDefault(name) == 1 && tensor.Dims.All(d => d > 0);

        var layers = new List<ModelLayer>();
        for (var i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            if (!string.IsNullOrEmpty(node.Domain))
                continue;
            var name = NodeName(node, i);
            TensorProto w;
            switch (node.OpType)
            {
                case "MatMul" when node.Input.Count == 2 && Constant(node.Input[1], 2, out w):
                    layers.Add(new ModelLayer(name, LayerKind.MatMul, (int)w.Dims[0], (int)w.Dims[1], w.Name, node.Input[0], i));
                    break;
                case "Gemm" when node.Input.Count >= 2 && IntAttribute(node, "transA", 0) == 0 && Constant(node.Input[1], 2, out w):
                    var transB = IntAttribute(node, "transB", 0) != 0;
                    layers.Add(new ModelLayer(name, LayerKind.Gemm, (int)w.Dims[transB ? 1 : 0], (int)w.Dims[transB ? 0 : 1], w.Name,
                        node.Input[0], i));
                    break;
                case "Conv" when node.Input.Count >= 2 && IntAttribute(node, "group", 1) == 1 && Constant(node.Input[1], 4, out w):
                    layers.Add(new ModelLayer(name, LayerKind.Conv, (int)(w.Dims[1] * w.Dims[2] * w.Dims[3]), (int)w.Dims[0], w.Name,
                        node.Input[0], i));
                    break;
                case "Gather" when node.Input.Count == 2 && IntAttribute(node, "axis", 0) == 0 && Constant(node.Input[0], 2, out w):
                    layers.Add(new ModelLayer(name, LayerKind.Gather, (int)w.Dims[0], (int)w.Dims[1], w.Name, node.Input[1], i));
                    break;
            }
        }
        return layers;
    }

    public static ConvGeometry Geometry(ModelProto model, ModelLayer layer)
    {
        var node = model.Graph.Node[layer.NodeIndex];
        var w = model.Graph.Initializer.First(t => t.Name == layer.WeightName);
        var strides = IntsAttribute(node, "strides", [1, 1]);
        var dilations = IntsAttribute(node, "dilations", [1, 1]);
        var pads = IntsAttribute(node, "pads", [0, 0, 0, 0]);
        var autoPad = Attribute(node, "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
        return new ConvGeometry((int)w.Dims[1], (int)w.Dims[2], (int)w.Dims[3], (int)strides[0], (int)strides[1], (int)dilations[0],
            (int)dilations[1], (int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3], autoPad == "" ? "NOTSET" : autoPad);
    }

    public static float[] Floats(TensorProto tensor)
    {
        if (tensor.RawData.Length > 0)
            return MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
        return tensor.FloatData.ToArray();
    }

    /// <summary>The layer's weight as the n x d matrix A of y = x A (float widened to double).</summary>
    public static Matrix<double> Weight(ModelProto model, ModelLayer layer)
    {
        var tensor = model.Graph.Initializer.First(t => t.Name == layer.WeightName);
        var data = Floats(tensor);
        int n = layer.Inputs, d = layer.Outputs;
        return layer.Kind switch
        {
            // Row-major n x d.
            LayerKind.MatMul or LayerKind.Gather => Matrix<double>.Build.Dense(n, d, (i, j) => data[(long)i * d + j]),
            LayerKind.Gemm when tensor.Dims[0] == n && tensor.Dims[1] == d && !IsTransB(model, layer) =>
                Matrix<double>.Build.Dense(n, d, (i, j) => data[(long)i * d + j]),
            // Gemm with transB stores d x n; a Conv weight is out x (in kh kw): both are A^T, row-major.
            _ => Matrix<double>.Build.Dense(n, d, (i, j) => data[(long)j * n + i]),
        };
    }

    private static bool IsTransB(ModelProto model, ModelLayer layer) =>
        IntAttribute(model.Graph.Node[layer.NodeIndex], "transB", 0) != 0;

    private static TensorProto FloatTensor(string name, long[] dims, float[] data)
    {
        var tensor = new TensorProto { Name = name, DataType = FloatType };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
        return tensor;
    }

    private static ValueInfoProto TensorInfo(string name, int elementType, long[]? dims)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = elementType };
        if (dims is not null)
        {
            tensor.Shape = new TensorShapeProto();
            tensor.Shape.Dim.AddRange(dims.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }

    /// <summary>A copy of the model that also outputs the named tensors (float, or int64 for `indices`), so one run of
    /// ONNX Runtime returns them; tensors that already are graph inputs or outputs are not added.</summary>
    public static byte[] WithOutputs(ModelProto model, IEnumerable<string> floats, IEnumerable<string> indices)
    {
        var copy = model.Clone();
        var existing = new HashSet<string>(copy.Graph.Output.Select(o => o.Name).Concat(copy.Graph.Input.Select(i => i.Name)));
        foreach (var name in floats.Distinct().Where(existing.Add))
            copy.Graph.Output.Add(TensorInfo(name, FloatType, null));
        foreach (var name in indices.Distinct().Where(existing.Add))
            copy.Graph.Output.Add(TensorInfo(name, Int64Type, null));
        return copy.ToByteArray();
    }

    /// <summary>True when the tensor reaches nothing but a layer normalisation over its last axis, through Add nodes
    /// only (a residual sum, a bias, position embeddings): LayerNormalization, or its decomposed form ReduceMean over
    /// axis -1 and Sub of that mean. Then adding any multiple of (1, ..., 1) to a row of the tensor changes nothing
    /// downstream, and a layer writing it may drop its outputs' mean.</summary>
    public static bool FeedsLayerNorm(ModelProto model, string tensor)
    {
        var graph = model.Graph;
        if (graph.Output.Any(o => o.Name == tensor))
            return false;
        var consumers = graph.Node.Where(n => n.Input.Contains(tensor)).ToList();
        if (consumers.Count == 0)
            return false;
        static bool LastAxis(NodeProto node) =>
            node.Attribute.FirstOrDefault(a => a.Name == "axes") is { } axes && axes.Ints.Count == 1 && axes.Ints[0] == -1;
        foreach (var node in consumers)
        {
            switch (node.OpType)
            {
                case "LayerNormalization" when node.Input[0] == tensor && IntAttribute(node, "axis", -1) == -1:
                    continue;
                case "Add" when FeedsLayerNorm(model, node.Output[0]):
                    continue;
                case "ReduceMean" when LastAxis(node)
                    && consumers.Any(c => c.OpType == "Sub" && c.Input.Count == 2 && c.Input[0] == tensor && c.Input[1] == node.Output[0]):
                    continue;
                case "Sub" when node.Input.Count == 2 && node.Input[0] == tensor
                    && consumers.Any(c => c.OpType == "ReduceMean" && LastAxis(c) && c.Output[0] == node.Input[1]):
                    continue;
                default:
                    return false;
            }
        }
        return true;
    }

    /// <summary>The part of the model that computes the named float tensors, as its only outputs: the nodes they depend
    /// on, and nothing after them. A calibration pass that needs one layer's inputs then runs only up to that layer.
    /// </summary>
    public static byte[] Prefix(ModelProto model, IReadOnlyCollection<string> outputs)
    {
        var copy = model.Clone();
        var graph = copy.Graph;
        var needed = new HashSet<string>(outputs);
        var keep = new bool[graph.Node.Count];
        for (var i = graph.Node.Count - 1; i >= 0; i--)
        {
            var node = graph.Node[i];
            if (!node.Output.Any(needed.Contains))
                continue;
            keep[i] = true;
            foreach (var input in node.Input)
                needed.Add(input);
        }
        var nodes = graph.Node.Where((_, i) => keep[i]).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        var dropped = graph.Initializer.Where(t => !needed.Contains(t.Name)).Select(t => t.Name).ToHashSet();
        var initializers = graph.Initializer.Where(t => needed.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
        // The model's inputs stay (ONNX Runtime is fed every input the data provides), unused ones included; before IR 4
        // the dropped initializers are listed as inputs too, and must go with them.
        var inputs = graph.Input.Where(i => !dropped.Contains(i.Name)).ToList();
        graph.Input.Clear();
        graph.Input.AddRange(inputs);
        graph.Output.Clear();
        foreach (var name in outputs)
            graph.Output.Add(TensorInfo(name, FloatType, null));
        return copy.ToByteArray();
    }

    /// <summary>Factors of one layer: Left (n x k) and Right (k x d), as A~ = Left Right; for a MatMul, Pivoted (when set)
    /// is the same matrix in the pivoted form, which the rewrite writes instead.</summary>
    internal sealed record Factors(Matrix<double> Left, Matrix<double> Right, PivotedFactors? Pivoted = null, ExactRows? Exact = null);

    /// <summary>Rows of a Gather table kept exactly (Tokens ascending, Rows their values), beside factors whose rows for
    /// those tokens are zero.</summary>
    internal sealed record ExactRows(int[] Tokens, Matrix<double> Rows);

    /// <summary>True when the model's default opset is at least 11, where Concat and Gather take a negative axis: the
    /// pivoted form needs them on the last axis of inputs of any rank.</summary>
    public static bool AllowsPivotedForm(ModelProto model) =>
        model.OpsetImport.Any(o => (o.Domain is "" or "ai.onnx") && o.Version >= 11);

    private static float[] RowMajor(Matrix<double> m, bool transpose)
    {
        int rows = transpose ? m.ColumnCount : m.RowCount, columns = transpose ? m.RowCount : m.ColumnCount;
        var data = new float[(long)rows * columns];
        for (var i = 0; i < rows; i++)
            for (var j = 0; j < columns; j++)
                data[(long)i * columns + j] = (float)(transpose ? m[j, i] : m[i, j]);
        return data;
    }

    /// <summary>The model with each factored layer replaced by its two factors (names stay: the last node writes the
    /// original output), the old weights removed and everything else kept as it was. With `absorbOrder`, a pivoted MatMul
    /// whose output reaches one factored MatMul through elementwise nodes only (a bias and an activation: a feed-forward
    /// block) leaves its columns in pivot order, and the elementwise constants and the rows of that MatMul's factors are
    /// permuted to match, which saves the Gather; the outputs are the same up to rounding.</summary>
    public static ModelProto Rewrite(ModelProto model, IReadOnlyList<ModelLayer> layers, IReadOnlyDictionary<string, Factors> factors,
        bool absorbOrder = false)
    {
        var copy = model.Clone();
        var graph = copy.Graph;
        var legacyInputs = copy.IrVersion < 4; // before IR 4 every initializer must also be a graph input
        var replaced = new Dictionary<int, NodeProto[]>();
        var removed = new HashSet<string>();
        var absorbed = absorbOrder ? AbsorbOrders(graph, layers, factors, legacyInputs) : Absorption.None;
        factors = absorbed.Factors ?? factors;
        foreach (var layer in layers)
        {
            if (!factors.TryGetValue(layer.Name, out var f))
                continue;
            var node = graph.Node[layer.NodeIndex];
            var k = f.Left.ColumnCount;
            string left = layer.WeightName + "_lowrank_left", right = layer.WeightName + "_lowrank_right";
            string middle = node.Output[0] + "_lowrank";
            var nodeName = string.IsNullOrEmpty(node.Name) ? $"{node.OpType}_{layer.NodeIndex}" : node.Name;
            TensorProto leftTensor, rightTensor;
            NodeProto first, second;
            if (layer.Kind == LayerKind.MatMul && f.Pivoted is { Rank: > 0 } p)
            {
                replaced[layer.NodeIndex] = PivotedNodes(graph, layer, node, nodeName, p, legacyInputs, !absorbed.Layers.Contains(layer.Name));
                removed.Add(layer.WeightName);
                continue;
            }
            switch (layer.Kind)
            {
                case LayerKind.MatMul:
                    leftTensor = FloatTensor(left, [layer.Inputs, k], RowMajor(f.Left, false));
                    rightTensor = FloatTensor(right, [k, layer.Outputs], RowMajor(f.Right, false));
                    first = Node("MatMul", nodeName + "_left", [node.Input[0], left], [middle]);
                    second = Node("MatMul", nodeName + "_right", [middle, right], [node.Output[0]]);
                    break;
                case LayerKind.Gemm:
                    leftTensor = FloatTensor(left, [layer.Inputs, k], RowMajor(f.Left, false));
                    rightTensor = FloatTensor(right, [k, layer.Outputs], RowMajor(f.Right, false));
                    first = Node("MatMul", nodeName + "_left", [node.Input[0], left], [middle]);
                    second = Node("Gemm", nodeName + "_right", [middle, right, .. node.Input.Skip(2)], [node.Output[0]]);
                    second.Attribute.AddRange(node.Attribute.Where(a => a.Name is "alpha" or "beta").Select(a => a.Clone()));
                    break;
                case LayerKind.Conv:
                    var w = graph.Initializer.First(t => t.Name == layer.WeightName);
                    // Left's column r is filter r over (in, kh, kw); Right^T is the 1 x 1 map from the k filters to out.
                    leftTensor = FloatTensor(left, [k, w.Dims[1], w.Dims[2], w.Dims[3]], RowMajor(f.Left, true));
                    rightTensor = FloatTensor(right, [layer.Outputs, k, 1, 1], RowMajor(f.Right, true));
                    first = Node("Conv", nodeName + "_left", [node.Input[0], left], [middle]);
                    first.Attribute.AddRange(node.Attribute.Select(a => a.Clone()));
                    second = Node("Conv", nodeName + "_right", [middle, right, .. node.Input.Skip(2)], [node.Output[0]]);
                    var kernel = new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints };
                    kernel.Ints.AddRange([1, 1]);
                    second.Attribute.Add(kernel);
                    break;
                case LayerKind.Gather:
                    leftTensor = FloatTensor(left, [layer.Inputs, k], RowMajor(f.Left, false));
                    rightTensor = FloatTensor(right, [k, layer.Outputs], RowMajor(f.Right, false));
                    first = Node("Gather", nodeName + "_left", [left, node.Input[1]], [middle]);
                    first.Attribute.AddRange(node.Attribute.Select(a => a.Clone()));
                    // With exact rows the factored rows are added to them (ExactRowNodes) instead of being the output.
                    second = Node("MatMul", nodeName + "_right", [middle, right],
                        [f.Exact is null ? node.Output[0] : node.Output[0] + "_lowrank_factored"]);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown layer kind {layer.Kind}.");
            }
            AddConstant(graph, leftTensor, legacyInputs);
            AddConstant(graph, rightTensor, legacyInputs);
            removed.Add(layer.WeightName);
            replaced[layer.NodeIndex] = f.Exact is { } exact
                ? [first, second, .. ExactRowNodes(graph, layer, node, nodeName, exact, second.Output[0], legacyInputs)]
                : [first, second];
        }

        var nodes = graph.Node.SelectMany((node, i) => replaced.TryGetValue(i, out var pair) ? pair : [node]).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        var kept = graph.Initializer.Where(t => !removed.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(kept);
        var inputs = graph.Input.Where(i => !removed.Contains(i.Name)).ToList();
        graph.Input.Clear();
        graph.Input.AddRange(inputs);
        var infos = graph.ValueInfo.Where(i => !removed.Contains(i.Name)).ToList();
        graph.ValueInfo.Clear();
        graph.ValueInfo.AddRange(infos);
        return copy;
    }

    /// <summary>The nodes that add a table's exact rows to its factored rows `factored` (Gather(Left, ids) Right, zero for
    /// the kept tokens): y = factored + Gather(Exact, Gather(slot, ids)), where slot maps each kept token to its exact row
    /// and every other token to a zero row after them.</summary>
    private static NodeProto[] ExactRowNodes(GraphProto graph, ModelLayer layer, NodeProto node, string nodeName, ExactRows exact,
        string factored, bool legacyInputs)
    {
        string rows = layer.WeightName + "_lowrank_exact_rows", slots = layer.WeightName + "_lowrank_exact_slots";
        string slot = node.Output[0] + "_lowrank_slot", kept = node.Output[0] + "_lowrank_exact";
        var table = Matrix<double>.Build.Dense(exact.Tokens.Length + 1, layer.Outputs);
        table.SetSubMatrix(0, 0, exact.Rows);
        var place = Enumerable.Repeat((long)exact.Tokens.Length, layer.Inputs).ToArray();
        for (var i = 0; i < exact.Tokens.Length; i++)
            place[exact.Tokens[i]] = i;
        var slotTensor = new TensorProto { Name = slots, DataType = Int64Type };
        slotTensor.Dims.Add(place.Length);
        slotTensor.Int64Data.AddRange(place);
        AddConstant(graph, FloatTensor(rows, [table.RowCount, layer.Outputs], RowMajor(table, false)), legacyInputs);
        AddConstant(graph, slotTensor, legacyInputs);
        NodeProto Gather(string name, string data, string indices, string output)
        {
            var gather = Node("Gather", name, [data, indices], [output]);
            gather.Attribute.AddRange(node.Attribute.Select(a => a.Clone()));
            return gather;
        }
        return
        [
            Gather(nodeName + "_slot", slots, node.Input[1], slot),
            Gather(nodeName + "_exact", rows, slot, kept),
            Node("Add", nodeName + "_join", [factored, kept], [node.Output[0]]),
        ];
    }

    /// <summary>Adds a constant to the graph; before IR 4 (`legacyInputs`) every initializer must also be a graph input.
    /// </summary>
    private static void AddConstant(GraphProto graph, TensorProto tensor, bool legacyInputs)
    {
        graph.Initializer.Add(tensor);
        if (legacyInputs)
            graph.Input.Add(TensorInfo(tensor.Name, tensor.DataType, tensor.Dims.ToArray()));
    }

    private static NodeProto Node(string op, string name, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    /// <summary>Writes bytes to a temporary file beside `path`, then renames it, so no half-written model is ever left.
    /// </summary>
    public static void WriteAtomically(string path, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot write '{path}': the folder '{folder}' does not exist.");
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            File.Delete(temporary);
            throw new IOException($"Cannot write '{path}': {e.Message}", e);
        }
    }
}
