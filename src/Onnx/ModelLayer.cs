namespace LowRank.Onnx;

/// <summary>The kind of a compressible layer of an ONNX model.</summary>
public enum LayerKind
{
    /// <summary>MatMul(X, W) with a constant 2-D W (inputs n x outputs d): becomes MatMul(MatMul(X, L), R).</summary>
    MatMul,

    /// <summary>Gemm(X, B, C) with a constant 2-D B and transA = 0: becomes Gemm(MatMul(X, L), R, C).</summary>
    Gemm,

    /// <summary>Conv(X, W, B) with a constant out x in x kh x kw W and group 1, as the (in kh kw) x out matrix: becomes a
    /// Conv with k filters of the same kernel, stride, padding and dilation, then a 1 x 1 Conv.</summary>
    Conv,

    /// <summary>Gather(T, ids) along axis 0 from a constant 2-D table T (an embedding, a row per token): becomes
    /// MatMul(Gather(L, ids), R).</summary>
    Gather,
}

/// <summary>A compressible layer of an ONNX model: a node with a constant weight that is a linear map y = x A, with A
/// n x d (inputs by outputs).</summary>
public sealed class ModelLayer
{
    internal ModelLayer(string name, LayerKind kind, int inputs, int outputs, string weightName, string inputName, int nodeIndex)
    {
        Name = name;
        Kind = kind;
        Inputs = inputs;
        Outputs = outputs;
        WeightName = weightName;
        InputName = inputName;
        NodeIndex = nodeIndex;
    }

    /// <summary>The node's name (or its op type and position when the node has none).</summary>
    public string Name { get; }

    /// <summary>The node's kind.</summary>
    public LayerKind Kind { get; }

    /// <summary>n: the layer's input size (in kh kw for a Conv, the vocabulary for a Gather).</summary>
    public int Inputs { get; }

    /// <summary>d: the layer's output size.</summary>
    public int Outputs { get; }

    /// <summary>The weight's initializer name.</summary>
    public string WeightName { get; }

    /// <summary>The tensor the layer reads: its activations, or the indices of a Gather.</summary>
    public string InputName { get; }

    /// <summary>Numbers in the dense weight, n d.</summary>
    public long Parameters => (long)Inputs * Outputs;

    internal int NodeIndex { get; }

    /// <summary>The layer as text: name, kind and shape.</summary>
    /// <returns>For example "MatMul_34 (MatMul, 384 x 384)".</returns>
    public override string ToString() => $"{Name} ({Kind}, {Inputs} x {Outputs})";
}
