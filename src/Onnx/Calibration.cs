using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace LowRank.Onnx;

public static partial class ModelCompression
{
    /// <summary>The moments of one calibration pass over the original model.</summary>
    internal sealed class Calibrated(ModelProto model, List<ModelLayer> layers, List<ModelLayer> tables)
    {
        private readonly Dictionary<string, Moment> moments = new();
        private readonly Dictionary<string, double[]> counts = new();
        private readonly Dictionary<string, ConvGeometry> geometry = layers.Where(l => l.Kind == LayerKind.Conv)
            .ToDictionary(l => l.Name, l => OnnxGraph.Geometry(model, l));

        public string Key(ModelLayer layer) =>
            layer.Kind == LayerKind.Conv ? layer.InputName + "|" + geometry[layer.Name].Key : layer.InputName;

        public Matrix<double> Rows(ModelLayer layer, Tensor<float> tensor, ModelBatch batch) =>
            layer.Kind == LayerKind.Conv ? LayerRows.Patches(tensor, geometry[layer.Name]) : LayerRows.Linear(tensor, layer.Inputs, batch);

        public Matrix<double> Covariance(ModelLayer layer) => moments[Key(layer)].Covariance();

        public double[] TokenCounts(ModelLayer table) => counts[table.Name];

        public void Run(CalibrationData data, IProgress<ModelCompressionProgress>? progress, CancellationToken cancellationToken)
        {
            var graphInputs = model.Graph.Input.Select(i => i.Name).ToHashSet();
            var byKey = layers.GroupBy(Key).Select(g => g.First()).ToList();
            // Tensors that are model inputs come from the feeds; the others are asked of ONNX Runtime as extra outputs.
            var floatOutputs = byKey.Select(l => l.InputName).Where(n => !graphInputs.Contains(n)).ToList();
            var indexOutputs = tables.Select(t => t.InputName).Where(n => !graphInputs.Contains(n)).ToList();
            using var session = new InferenceSession(OnnxGraph.WithOutputs(model, floatOutputs, indexOutputs));
            foreach (var layer in byKey)
                moments[Key(layer)] = new Moment(layer.Inputs);
            foreach (var table in tables)
                counts[table.Name] = new double[table.Inputs];
            var wanted = floatOutputs.Concat(indexOutputs).Distinct().ToList();
            var total = data.Count;
            var seen = 0;
            foreach (var batch in data.Batches(session))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var results = wanted.Count > 0 ? session.Run(batch.Inputs, wanted) : null;
                var values = results?.ToDictionary(r => r.Name, r => (NamedOnnxValue)r) ?? new Dictionary<string, NamedOnnxValue>();
                foreach (var input in batch.Inputs)
                    values.TryAdd(input.Name, input);
                foreach (var layer in byKey)
                    moments[Key(layer)].Add(Rows(layer, values[layer.InputName].AsTensor<float>(), batch));
                foreach (var table in tables)
                {
                    var indices = values[table.InputName];
                    var tensor = indices.Value is Tensor<int> ints ? ToLong(ints) : indices.AsTensor<long>();
                    LayerRows.CountTokens(tensor, batch, counts[table.Name]);
                }
                seen += batch.Examples;
                progress?.Report(new ModelCompressionProgress("calibrating", seen, total));
            }
        }

        private static Tensor<long> ToLong(Tensor<int> ints)
        {
            var result = new DenseTensor<long>(ints.Dimensions);
            for (var i = 0; i < ints.Length; i++)
                result.SetValue(i, ints.GetValue(i));
            return result;
        }
    }
}
