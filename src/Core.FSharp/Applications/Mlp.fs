namespace LowRank.Core

open System
open System.Threading
open MathNet.Numerics.LinearAlgebra

/// A two-layer perceptron x -> softmax(relu(x W1 + b1) W2 + b2): the network whose first layer the compression
/// experiments replace by a low-rank or reweighted approximation. Row vectors: W1 is inputs x hidden, W2 hidden x classes.
[<NoComparison; NoEquality>]
type Mlp = {
    /// First layer, inputs x hidden (784 x 128 for Fashion-MNIST): the layer that is compressed.
    W1: Matrix<float>
    /// First bias, length hidden.
    B1: float[]
    /// Second layer, hidden x classes.
    W2: Matrix<float>
    /// Second bias, length classes.
    B2: float[]
}

/// One finished epoch of Mlp.train.
type MlpProgress = {
    /// Epochs done, from 1.
    Epoch: int
    /// Epochs in all.
    Epochs: int
    /// The mean softmax cross-entropy of the epoch's training examples, each taken at its mini-batch's forward pass
    /// (before that batch's step): the running training loss, computed at no extra cost.
    Loss: float
}

/// Options of Mlp.train.
[<NoComparison; NoEquality>]
type MlpOptions = {
    /// Hidden units. Default 128.
    Hidden: int
    /// Passes over the training set. Default 5.
    Epochs: int
    /// Mini-batch size. Default 128.
    BatchSize: int
    /// Adam's step size (beta1 0.9, beta2 0.999, epsilon 1e-8). Default 1e-3.
    LearningRate: float
    /// Seed of the initialisation and of the shuffling. Default 0.
    Seed: int
} with

    /// 128 hidden units, 5 epochs, batches of 128, Adam at 1e-3, seed 0.
    static member Default = {
        Hidden = 128
        Epochs = 5
        BatchSize = 128
        LearningRate = 1e-3
        Seed = 0
    }

/// Training and evaluating the two-layer perceptron of the compression experiments, and the first layer's empirical
/// Fisher information, which gives the weights of the Fisher-weighted low-rank approximation (Hsu et al., "Language
/// model compression with weighted low-rank factorization", ICLR 2022; Woodruff and Yasuda 2024, section 4).
[<RequireQualifiedAccess>]
module Mlp =

    let private checkData (inputs: Matrix<float>) (labels: int[]) (classes: int) =
        Guard.finiteMatrix (nameof inputs) inputs
        Guard.notNull (nameof labels) labels

        if labels.Length <> inputs.RowCount then
            raise (
                ArgumentException(
                    $"Expected a label per row of inputs ({inputs.RowCount}), but labels has {labels.Length}.",
                    nameof labels
                )
            )

        match labels |> Array.tryFindIndex (fun y -> y < 0 || y >= classes) with
        | Some i ->
            raise (
                ArgumentException(
                    $"Expected labels in [0, {classes - 1}], but labels[{i}] = {labels[i]}.",
                    nameof labels
                )
            )
        | None -> ()

    /// rows[indices] as a dense |indices| x d matrix.
    let private rowsOf (x: Matrix<float>) (indices: int[]) =
        let d = x.ColumnCount
        let result = Matrix<float>.Build.Dense(indices.Length, d)

        for j in 0 .. d - 1 do
            for r in 0 .. indices.Length - 1 do
                result[r, j] <- x[indices[r], j]

        result

    let private addRow (bias: float[]) (z: Matrix<float>) =
        let values = z.AsColumnMajorArray()
        let n = z.RowCount

        for j in 0 .. z.ColumnCount - 1 do
            for i in 0 .. n - 1 do
                values[j * n + i] <- values[j * n + i] + bias[j]

    /// Pre-activations Z1 = X W1 + b1 and hidden activations H = relu(Z1), then the logits H W2 + b2.
    let private forward (network: Mlp) (x: Matrix<float>) =
        let z1 = Dense.multiply x network.W1
        addRow network.B1 z1
        let h = z1.Map(fun v -> max v 0.0)
        let logits = Dense.multiply h network.W2
        addRow network.B2 logits
        z1, h, logits

    /// Softmax of each row, in place, stable by subtracting the row's maximum.
    let private softmaxRows (logits: Matrix<float>) =
        for i in 0 .. logits.RowCount - 1 do
            let mutable top = Double.NegativeInfinity

            for j in 0 .. logits.ColumnCount - 1 do
                top <- max top logits[i, j]

            let mutable sum = 0.0

            for j in 0 .. logits.ColumnCount - 1 do
                let e = exp (logits[i, j] - top)
                logits[i, j] <- e
                sum <- sum + e

            for j in 0 .. logits.ColumnCount - 1 do
                logits[i, j] <- logits[i, j] / sum

    /// dLoss/dZ1 for each row (not averaged): the per-example deltas at the first layer's pre-activations, with the
    /// per-example cross-entropy loss, and dLoss/dlogits = softmax - onehot.
    let private deltas (network: Mlp) (z1: Matrix<float>) (probabilities: Matrix<float>) (labels: int[]) =
        for i in 0 .. labels.Length - 1 do
            probabilities[i, labels[i]] <- probabilities[i, labels[i]] - 1.0

        let g1 = Dense.gemm false probabilities true network.W2
        g1.MapIndexedInplace(fun i j v -> if z1[i, j] > 0.0 then v else 0.0)
        g1

    let private columnSums (m: Matrix<float>) =
        Array.init m.ColumnCount (fun j -> m.Column(j).Sum())

    /// <summary>Trains the perceptron with softmax cross-entropy and Adam on mini-batches in a seeded random order;
    /// deterministic for a given seed and backend. Initialisation as PyTorch's nn.Linear: uniform in
    /// +-1/sqrt(fan-in).</summary>
    /// <param name="options">Sizes, epochs and Adam's step.</param>
    /// <param name="classes">The number of classes c (10 for Fashion-MNIST).</param>
    /// <param name="progress">Called after every epoch.</param>
    /// <param name="token">Cancels between mini-batches (OperationCanceledException).</param>
    /// <param name="inputs">N x d training inputs, one example per row (pixels / 255 for images).</param>
    /// <param name="labels">N labels in [0, c).</param>
    /// <returns>The trained network; O(epochs N (d + c) h) time.</returns>
    /// <exception cref="System.ArgumentException">labels do not match inputs, or inputs are not finite.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException">an option or classes is below 1.</exception>
    [<CompiledName("Train")>]
    let train
        (options: MlpOptions)
        (classes: int)
        (progress: MlpProgress -> unit)
        (token: CancellationToken)
        (inputs: Matrix<float>)
        (labels: int[])
        =
        Guard.notNull (nameof options) options
        Guard.notNull (nameof progress) progress

        for name, value in
            [
                "options.Hidden", options.Hidden
                "options.Epochs", options.Epochs
                "options.BatchSize", options.BatchSize
                nameof classes, classes
            ] do
            if value < 1 then
                raise (ArgumentOutOfRangeException(name, value, $"Expected {name} >= 1, but it is {value}."))

        if not (options.LearningRate > 0.0 && Double.IsFinite options.LearningRate) then
            raise (
                ArgumentOutOfRangeException(
                    "options.LearningRate",
                    options.LearningRate,
                    $"Expected a finite options.LearningRate > 0, but it is {options.LearningRate}."
                )
            )

        checkData inputs labels classes
        let n, d, h = inputs.RowCount, inputs.ColumnCount, options.Hidden
        let random = Random(options.Seed)

        let uniform bound =
            (2.0 * random.NextDouble() - 1.0) * bound

        let b1, b2 = 1.0 / sqrt (float d), 1.0 / sqrt (float h)

        let network = {
            W1 = Matrix<float>.Build.Dense(d, h, fun _ _ -> uniform b1)
            B1 = Array.init h (fun _ -> uniform b1)
            W2 = Matrix<float>.Build.Dense(h, classes, fun _ _ -> uniform b2)
            B2 = Array.init classes (fun _ -> uniform b2)
        }

        // Adam state: one (parameters, first moment, second moment) triple per parameter array.
        let parameters = [|
            network.W1.AsColumnMajorArray()
            network.B1
            network.W2.AsColumnMajorArray()
            network.B2
        |]

        let first = parameters |> Array.map (fun p -> Array.zeroCreate<float> p.Length)
        let second = parameters |> Array.map (fun p -> Array.zeroCreate<float> p.Length)
        let mutable t = 0
        let order = Array.init n id

        for epoch in 1 .. options.Epochs do
            let mutable loss = 0.0
            // Fisher-Yates with the seeded generator.
            for i in n - 1 .. -1 .. 1 do
                let j = random.Next(i + 1)
                let swap = order[i]
                order[i] <- order[j]
                order[j] <- swap

            for start in 0 .. options.BatchSize .. n - 1 do
                token.ThrowIfCancellationRequested()
                let batch = order[start .. min n (start + options.BatchSize) - 1]
                let x = rowsOf inputs batch
                let y = batch |> Array.map (fun i -> labels[i])
                let z1, hidden, p = forward network x
                softmaxRows p

                for i in 0 .. y.Length - 1 do
                    loss <- loss - log (max p[i, y[i]] Double.Epsilon)

                let g1 = deltas network z1 p y
                let scale = 1.0 / float batch.Length
                // p now holds dLoss/dlogits per example; the batch loss is their mean.
                let gradients = [|
                    (Dense.gemm true x false g1 * scale).AsColumnMajorArray()
                    columnSums g1 |> Array.map ((*) scale)
                    (Dense.gemm true hidden false p * scale).AsColumnMajorArray()
                    columnSums p |> Array.map ((*) scale)
                |]

                t <- t + 1
                let c1 = 1.0 - Math.Pow(0.9, float t)
                let c2 = 1.0 - Math.Pow(0.999, float t)

                for q in 0 .. parameters.Length - 1 do
                    let w, g, m, s = parameters[q], gradients[q], first[q], second[q]

                    for i in 0 .. w.Length - 1 do
                        m[i] <- 0.9 * m[i] + 0.1 * g[i]
                        s[i] <- 0.999 * s[i] + 0.001 * g[i] * g[i]
                        w[i] <- w[i] - options.LearningRate * (m[i] / c1) / (sqrt (s[i] / c2) + 1e-8)

            progress {
                Epoch = epoch
                Epochs = options.Epochs
                Loss = loss / float n
            }

        network

    /// <summary>The network with its first layer replaced, for instance by a compressed approximation.</summary>
    /// <param name="layer">The new W1, of W1's shape, finite.</param>
    /// <param name="network">The network.</param>
    /// <returns>A copy sharing the other parameters.</returns>
    /// <exception cref="System.ArgumentException">layer has another shape or is not finite.</exception>
    [<CompiledName("WithFirstLayer")>]
    let withFirstLayer (layer: Matrix<float>) (network: Mlp) =
        Guard.notNull (nameof network) network
        Guard.finiteMatrix (nameof layer) layer
        Guard.sameShape (nameof layer) layer "network.W1" network.W1 (nameof layer)
        { network with W1 = layer.Clone() }

    /// <summary>The fraction of examples whose largest logit is their label's.</summary>
    /// <param name="network">The network.</param>
    /// <param name="inputs">N x d inputs.</param>
    /// <param name="labels">N labels.</param>
    /// <returns>Accuracy in [0, 1]; O(N (d + c) h).</returns>
    /// <exception cref="System.ArgumentException">the inputs' width is not W1's row count, or labels do not match.</exception>
    [<CompiledName("Accuracy")>]
    let accuracy (network: Mlp) (inputs: Matrix<float>) (labels: int[]) =
        Guard.notNull (nameof network) network
        checkData inputs labels network.W2.ColumnCount

        if inputs.ColumnCount <> network.W1.RowCount then
            raise (
                ArgumentException(
                    $"Expected inputs with {network.W1.RowCount} columns (W1's rows), but inputs is {Guard.shape inputs}.",
                    nameof inputs
                )
            )

        let _, _, logits = forward network inputs

        let correct =
            labels
            |> Array.mapi (fun i y -> if logits.Row(i).MaximumIndex() = y then 1 else 0)
            |> Array.sum

        float correct / float labels.Length

    /// Calls f with each block of inputs and their per-example deltas at Z1, 4096 examples at a time, so that the
    /// deltas never take N x h memory at once.
    let private forEachDeltaBlock (network: Mlp) (inputs: Matrix<float>) (labels: int[]) f =
        let n = inputs.RowCount
        let block = 4096

        for start in 0..block .. n - 1 do
            let rows = Array.init (min block (n - start)) (fun i -> start + i)
            let x = rowsOf inputs rows
            let z1, _, p = forward network x
            softmaxRows p
            f x (deltas network z1 p (rows |> Array.map (fun i -> labels[i])))

    /// <summary>The empirical Fisher information of the first layer's entries: F_ab = (1/N) sum_i (dL_i/dW1_ab)^2 with
    /// L_i example i's cross-entropy at its true label; dL_i/dW1_ab = x_ia delta_ib, so F = (X o X)^T (Delta o Delta) / N
    /// in one product. Use W = sqrt(F) (Norm.sqrtWeights) as the weights of Fisher-weighted low-rank approximation, whose
    /// loss sum_ab F_ab (A - A~)_ab^2 is the diagonal second-order estimate of the loss increase.</summary>
    /// <param name="network">The trained network.</param>
    /// <param name="inputs">N x d inputs (the training set, or a sample of it).</param>
    /// <param name="labels">N labels.</param>
    /// <returns>F (d x h), nonnegative; exactly 0 in the rows of inputs that are 0 in every example. O(N d h).</returns>
    /// <exception cref="System.ArgumentException">as for accuracy.</exception>
    [<CompiledName("FirstLayerFisher")>]
    let firstLayerFisher (network: Mlp) (inputs: Matrix<float>) (labels: int[]) =
        Guard.notNull (nameof network) network
        checkData inputs labels network.W2.ColumnCount
        let fisher = Matrix<float>.Build.Dense(network.W1.RowCount, network.W1.ColumnCount)

        forEachDeltaBlock network inputs labels (fun x delta ->
            fisher.Add(Dense.gemm true (x.PointwiseMultiply x) false (delta.PointwiseMultiply delta), fisher))

        fisher / float inputs.RowCount

    /// <summary>The second moment G = (1/N) sum_i delta_i^T delta_i of the loss gradient delta_i = dL_i/dZ1_i at the first
    /// layer's outputs (pre-activations): the output-side factor of the first layer's Kronecker-factored Fisher
    /// E[x^T x] (x) G, for Compression.twoSided.</summary>
    /// <param name="network">The trained network.</param>
    /// <param name="inputs">N x d inputs.</param>
    /// <param name="labels">N labels.</param>
    /// <returns>G (h x h), symmetric positive semidefinite; O(N (d + h) h).</returns>
    /// <exception cref="System.ArgumentException">as for accuracy.</exception>
    [<CompiledName("OutputGradientCovariance")>]
    let outputGradientCovariance (network: Mlp) (inputs: Matrix<float>) (labels: int[]) =
        Guard.notNull (nameof network) network
        checkData inputs labels network.W2.ColumnCount
        let h = network.W1.ColumnCount
        let moment = Matrix<float>.Build.Dense(h, h)

        forEachDeltaBlock network inputs labels (fun _ delta -> moment.Add(Dense.gemm true delta false delta, moment))

        moment / float inputs.RowCount
