using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using Xunit;

namespace LowRank.Unit;

/// <summary>
/// The public C# surface is a reviewed artefact recorded with its nullability in src/Api.CSharp/PublicAPI.Shipped.txt
/// and PublicAPI.Unshipped.txt, which the PublicApiAnalyzers check at build time. These tests add what the analyzer
/// does not check: no F# or LowRank.Core type appears in the surface.
/// </summary>
public class PublicApiTests
{
    private static readonly Assembly Facade = typeof(Scw).Assembly;

    private static IEnumerable<Type> PublicTypes => Facade.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal);

    private static string Name(Type type)
    {
        if (type.IsByRef)
        {
            return Name(type.GetElementType()!);
        }

        if (type.IsArray)
        {
            return $"{Name(type.GetElementType()!)}[{new string(',', type.GetArrayRank() - 1)}]";
        }

        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        var name = type.Namespace is null ? type.Name : $"{type.Namespace}.{type.Name}";
        if (!type.IsGenericType)
        {
            return name;
        }

        var arguments = string.Join(", ", type.GetGenericArguments().Select(Name));
        return $"{name[..name.IndexOf('`')]}<{arguments}>";
    }

    private static string Parameters(MethodBase method) =>
        string.Join(", ", method.GetParameters().Select(p =>
            (p.IsDefined(typeof(ParamArrayAttribute)) ? "params " : "")
            + $"{Name(p.ParameterType)} {p.Name}"
            + (p.HasDefaultValue ? $" = {p.DefaultValue ?? "null"}" : "")));

    private static IEnumerable<string> Members(Type type)
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (type.IsEnum)
        {
            return Enum.GetNames(type).Select(n => $"    {n} = {Convert.ToInt64(Enum.Parse(type, n))}");
        }

        var constructors = type.GetConstructors(flags).Select(c => $"    {(c.IsStatic ? "static " : "")}.ctor({Parameters(c)})");
        var properties = type.GetProperties(flags).Select(p =>
            $"    {(p.GetMethod?.IsStatic == true ? "static " : "")}{Name(p.PropertyType)} {p.Name} {{ {(p.CanRead ? "get; " : "")}{(p.SetMethod?.IsPublic == true ? "set; " : "")}}}");
        var methods = type.GetMethods(flags).Where(m => !m.IsSpecialName).Select(m =>
            $"    {(m.IsStatic ? "static " : "")}{Name(m.ReturnType)} {m.Name}({Parameters(m)})");
        return constructors.Concat(properties).Concat(methods).OrderBy(s => s, StringComparer.Ordinal);
    }

    private static string Kind(Type type) =>
        type.IsEnum ? "enum" : type.IsInterface ? "interface" : type.IsValueType ? "struct"
        : type.IsAbstract && type.IsSealed ? "static class" : type.IsSealed ? "sealed class" : "class";

    internal static string Surface()
    {
        var lines = new List<string>();
        foreach (var type in PublicTypes)
        {
            var bases = type.GetInterfaces().Select(Name).OrderBy(n => n, StringComparer.Ordinal).ToList();
            lines.Add($"{Kind(type)} {Name(type)}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : "")}");
            lines.AddRange(Members(type));
        }

        return string.Join("\n", lines) + "\n";
    }

    [Fact]
    public void PublicSurface_ExposesNoFSharpOrCoreTypes()
    {
        var offending = Surface().Split('\n')
            .Where(line => line.Contains("Microsoft.FSharp", StringComparison.Ordinal)
                           || line.Contains("LowRank.Core", StringComparison.Ordinal))
            .ToList();
        Assert.True(offending.Count == 0, "F# or core types in the C# surface:\n" + string.Join("\n", offending));
    }

    [Fact]
    public void PublicSurface_HasNoTypesWithFSharpBaseTypes()
    {
        var offending = PublicTypes.Where(t => t.BaseType?.Assembly.GetName().Name == "FSharp.Core").ToList();
        Assert.Empty(offending);
    }
}
