using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace LowRank.Tests;

/// <summary>Small ONNX models built by hand, one per kind of compressible layer, for tests that must not depend on a
/// downloaded model.</summary>
internal static class OnnxGraphs
{
    public const string Vocabulary = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\nsat\non\nmat\ndog\nran\nfast\na\nred\nball\n";

    public static int VocabularySize => Vocabulary.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    private static float[] Random(int count, int seed, double scale = 1.0)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(scale * (random.NextDouble() * 2 - 1))).ToArray();
    }

    public static TensorProto Tensor(string name, long[] dims, float[] data)
    {
        var tensor = new TensorProto { Name = name, DataType = 1 };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
        return tensor;
    }

    public static ValueInfoProto Info(string name, int elementType, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } } };
    }

    public static NodeProto Node(string op, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static ModelProto Model(GraphProto graph, long opset = 13)
    {
        var model = new ModelProto { IrVersion = 7, Graph = graph, ProducerName = "LowRank tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    /// <summary>A BERT-shaped toy: input_ids, attention_mask and token_type_ids [batch, sequence] → embedding (Gather from
    /// a 16 x 4 table) → MatMul 4 x 12 → Add bias → SiLU → MatMul 12 x 4 → last_hidden_state [batch, sequence, 4]. Padded positions
    /// get zero input through the mask, as a real encoder's attention would ignore them.</summary>
    public static ModelProto Text()
    {
        var graph = new GraphProto { Name = "text" };
        graph.Input.Add(Info("input_ids", 7, "batch", "sequence"));
        graph.Input.Add(Info("attention_mask", 7, "batch", "sequence"));
        graph.Input.Add(Info("token_type_ids", 7, "batch", "sequence"));
        graph.Output.Add(Info("last_hidden_state", 1, "batch", "sequence", 4));
        graph.Initializer.Add(Tensor("table", [VocabularySize, 4], Random(VocabularySize * 4, 1)));
        graph.Initializer.Add(Tensor("w1", [4, 12], Random(48, 2)));
        graph.Initializer.Add(Tensor("w2", [12, 4], Random(48, 3)));
        graph.Node.Add(Node("Gather", "embed", ["table", "input_ids"], ["embedded"], Int("axis", 0)));
        graph.Node.Add(Node("Cast", "mask_float", ["attention_mask"], ["mask_f"], Int("to", 1)));
        graph.Node.Add(Node("Unsqueeze", "mask_axis", ["mask_f", "axes"], ["mask_3"]));
        graph.Initializer.Add(new TensorProto { Name = "axes", DataType = 7, Dims = { 1 }, Int64Data = { -1 } });
        graph.Node.Add(Node("Mul", "masked", ["embedded", "mask_3"], ["x"]));
        graph.Node.Add(Node("MatMul", "up", ["x", "w1"], ["h"]));
        graph.Initializer.Add(Tensor("b1", [12], Random(12, 4)));
        graph.Node.Add(Node("Add", "bias", ["h", "b1"], ["hb"]));
        // SiLU, hb sigmoid(hb): the activation reads hb twice, as GELU's decomposed form does.
        graph.Node.Add(Node("Sigmoid", "gate", ["hb"], ["g"]));
        graph.Node.Add(Node("Mul", "silu", ["hb", "g"], ["r"]));
        graph.Node.Add(Node("MatMul", "down", ["r", "w2"], ["last_hidden_state"]));
        return Model(graph);
    }

    /// <summary>An image-shaped toy: input [batch, channels (2), 6, 6] → Conv 4 filters 3 x 3, stride 1, pads 1, bias → Relu →
    /// Flatten → Gemm (transB, 144 → 10, bias) → [batch, 10]; with batchOfOne the batch size is fixed at 1, as some
    /// exported models have it.</summary>
    public static ModelProto Image(bool batchOfOne = false, int channels = 2)
    {
        var graph = new GraphProto { Name = "image" };
        graph.Input.Add(batchOfOne ? Info("image", 1, 1, channels, 6, 6) : Info("image", 1, "batch", channels, 6, 6));
        graph.Output.Add(batchOfOne ? Info("logits", 1, 1, 10) : Info("logits", 1, "batch", 10));
        graph.Initializer.Add(Tensor("conv_w", [4, channels, 3, 3], Random(36 * channels, 4)));
        graph.Initializer.Add(Tensor("conv_b", [4], Random(4, 5)));
        graph.Initializer.Add(Tensor("fc_w", [10, 144], Random(1440, 6, 0.2)));
        graph.Initializer.Add(Tensor("fc_b", [10], Random(10, 7)));
        graph.Node.Add(Node("Conv", "conv", ["image", "conv_w", "conv_b"], ["c"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1),
            Ints("strides", 1, 1)));
        graph.Node.Add(Node("Relu", "relu", ["c"], ["r"]));
        graph.Node.Add(Node("Flatten", "flatten", ["r"], ["f"], Int("axis", 1)));
        graph.Node.Add(Node("Gemm", "fc", ["f", "fc_w", "fc_b"], ["logits"], Int("transB", 1)));
        return Model(graph);
    }

    /// <summary>Embeddings into a mean subtraction, the first half of a decomposed LayerNormalization: input_ids →
    /// Gather from a 16 x 4 table → Add a constant → Sub its ReduceMean over the last axis → centred [batch, sequence, 4].
    /// </summary>
    public static ModelProto CentredEmbedding()
    {
        var graph = new GraphProto { Name = "centred" };
        graph.Input.Add(Info("input_ids", 7, "batch", "sequence"));
        graph.Output.Add(Info("centred", 1, "batch", "sequence", 4));
        var table = Random(VocabularySize * 4, 11);
        for (var i = 0; i < VocabularySize; i++)
            for (var j = 0; j < 4; j++)
                table[i * 4 + j] += 3f; // a large shared mean, as real embedding tables have
        graph.Initializer.Add(Tensor("table", [VocabularySize, 4], table));
        graph.Initializer.Add(Tensor("shift", [4], Random(4, 12)));
        graph.Node.Add(Node("Gather", "embed", ["table", "input_ids"], ["embedded"], Int("axis", 0)));
        graph.Node.Add(Node("Add", "shifted", ["embedded", "shift"], ["sum"]));
        graph.Node.Add(Node("ReduceMean", "mean", ["sum"], ["mean_out"], Ints("axes", -1)));
        graph.Node.Add(Node("Sub", "centre", ["sum", "mean_out"], ["centred"]));
        return Model(graph);
    }

    /// <summary>The model as an IR 3 file (opset 8, as ResNet18.onnx is): every initializer also listed as a graph input.
    /// </summary>
    public static ModelProto Legacy(ModelProto model)
    {
        var copy = model.Clone();
        copy.IrVersion = 3;
        copy.OpsetImport.Clear();
        copy.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 8 });
        foreach (var tensor in copy.Graph.Initializer)
            copy.Graph.Input.Add(Info(tensor.Name, tensor.DataType, tensor.Dims.Cast<object>().ToArray()));
        return copy;
    }

    /// <summary>A graph with no layer to compress: Relu of its input.</summary>
    public static ModelProto NothingToCompress()
    {
        var graph = new GraphProto { Name = "relu" };
        graph.Input.Add(Info("x", 1, "batch", 4));
        graph.Output.Add(Info("y", 1, "batch", 4));
        graph.Node.Add(Node("Relu", "relu", ["x"], ["y"]));
        return Model(graph);
    }

    /// <summary>Writes <see cref="Vocabulary"/> as a WordPiece vocab.txt into the folder and returns its path.</summary>
    public static string SaveVocabulary(string folder, string name = "vocab.txt")
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, Vocabulary);
        return path;
    }

    public static string Save(ModelProto model, string folder, string name)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }
}
