using System;
using System.Linq;
using System.Reflection;
using Xunit;

namespace LowRank.Unit;

/// <summary>
/// Every public function of an F# core module has a facade member with the same PascalCase name on the C# class of the
/// same name, so the two languages never drift apart (STYLE.md, "A C# API that feels native").
/// </summary>
public class ParityTests
{
    private const string CompilationMapping = "Microsoft.FSharp.Core.CompilationMappingAttribute";

    private static bool IsFSharpModule(Type type) =>
        type.IsAbstract && type.IsSealed && type.GetCustomAttributesData().Any(a =>
            a.AttributeType.FullName == CompilationMapping
            && a.ConstructorArguments.Count > 0
            && Convert.ToInt32(a.ConstructorArguments[0].Value) == 7); // SourceConstructFlags.Module

    [Fact]
    public void EveryCoreFunction_HasAFacadeMemberOfTheSameName()
    {
        var core = typeof(Core.LowRankApproximation).Assembly;
        var facade = typeof(Scw).Assembly;
        var modules = core.GetExportedTypes().Where(IsFSharpModule).ToList();
        Assert.NotEmpty(modules);

        var missing =
            from module in modules
            let className = module.Name.EndsWith("Module", StringComparison.Ordinal) ? module.Name[..^"Module".Length] : module.Name
            let facadeType = facade.GetType($"LowRank.{className}")
            from function in module.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
            // Debug builds emit public helpers such as "<averageBy>__debug@150" for inlined functions; they are not API.
            where !function.Name.Contains('<') && !function.Name.Contains('@')
            where facadeType is null || facadeType.GetMember(function.Name, BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance).Length == 0
            select $"{module.FullName}.{function.Name} has no LowRank.{className}.{function.Name}";

        Assert.True(!missing.Any(), string.Join("\n", missing));
    }
}
