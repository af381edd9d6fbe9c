using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RpcGen.Generator.Model;
using RpcGen.Generator.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Generator.Tests;

/// <summary>
/// The generator must not redo work, nor keep compilations alive, when the user edits code unrelated to a service:
/// every tracked step is Cached or Unchanged after such an edit, and the models the steps hold are plain data.
/// </summary>
public sealed class IncrementalTests
{
    private static readonly string[] s_steps =
    {
        RpcServiceGenerator.TrackingNames.Parse,
        RpcServiceGenerator.TrackingNames.Services,
    };

    private const string Services = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using RpcGen;

        namespace Shop
        {
            /// <summary>Orders.</summary>
            [RpcService(Queue = "orders")]
            public interface IOrders
            {
                /// <summary>Places an order.</summary>
                Task<int> PlaceAsync(string customer, List<int> items, CancellationToken cancellationToken = default);

                /// <summary>Forgets an order.</summary>
                [RpcMethod(OneWay = true)]
                Task ForgetAsync(int id);
            }

            internal interface IPing { Task<string> PingAsync(); }

            [RpcService]
            internal interface IStock : IPing
            {
                ValueTask<int?> CountAsync(string sku = "none");
            }

            [RpcService]
            internal interface IBroken
            {
                void Reset();
                int Size { get; }
            }
        }
        """;

    private const string Unrelated = """
        namespace Shop
        {
            internal static class Pricing
            {
                public static decimal Total(decimal price, int count) => price * count;
            }
        }
        """;

    [Fact]
    public void Editing_an_unrelated_file_leaves_every_step_cached_or_unchanged()
    {
        var (driver, compilation) = FirstRun();

        var edited = Replace(compilation, "Pricing.cs", Unrelated.Replace("price * count", "price * count + 0m") + "\ninternal sealed class Added { }\n");
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var step in s_steps) AssertAllOutputs(result, step, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertSourceOutputs(result, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
    }

    [Fact]
    public void Editing_a_comment_in_the_service_file_reparses_but_regenerates_nothing()
    {
        var (driver, compilation) = FirstRun();

        var edited = Replace(compilation, "Services.cs", Services + "\n// a comment the generator must not care about\n");
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        AssertAllOutputs(result, RpcServiceGenerator.TrackingNames.Services, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertSourceOutputs(result, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
    }

    /// <summary>The control: a change that matters must reach the output, or the assertions above prove nothing.</summary>
    [Fact]
    public void Editing_a_service_regenerates_that_service_only()
    {
        var (driver, compilation) = FirstRun();

        var edited = Replace(compilation, "Services.cs", Services.Replace("ValueTask<int?> CountAsync", "ValueTask<long?> CountAsync"));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var services = result.TrackedSteps[RpcServiceGenerator.TrackingNames.Services].SelectMany(s => s.Outputs).ToList();
        Assert.Single(services, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(services, o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        var modified = (ServiceModel)services.Single(o => o.Reason == IncrementalStepRunReason.Modified).Value;
        Assert.Equal("Stock", modified.ServiceName);
        Assert.Contains("ValueTask<long?>", result.GeneratedSources.Single(s => s.HintName == "Shop.IStock.RpcGen.g.cs").SourceText.ToString());
    }

    [Fact]
    public void The_first_run_tracks_every_step()
    {
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(Initial());
        var result = driver.GetRunResult().Results.Single();

        foreach (var step in s_steps)
        {
            Assert.True(result.TrackedSteps.ContainsKey(step), $"step {step} is not tracked");
            Assert.All(result.TrackedSteps[step].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.New, o.Reason));
        }

        Assert.Equal(2, result.TrackedSteps[RpcServiceGenerator.TrackingNames.Services].Sum(s => s.Outputs.Length)); // IBroken has problems, no model
        Assert.Empty(result.Diagnostics); // RpcServiceAnalyzer reports IBroken's problems, in the user's syntax tree

    }

    [Fact]
    public void Step_outputs_hold_no_symbol_syntax_node_compilation_or_location()
    {
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(Initial());
        var result = driver.GetRunResult().Results.Single();

        int visited = 0;
        foreach (var step in s_steps)
        {
            foreach (var output in result.TrackedSteps[step].SelectMany(s => s.Outputs))
            {
                visited += AssertPlainData(output.Value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
            }
        }

        // The walk must have reached the leaves: services, methods, parameters.
        Assert.True(visited > 50, $"only {visited} objects visited");
    }

    [Fact]
    public void Model_types_cannot_hold_a_symbol_syntax_node_compilation_or_location()
    {
        // The runtime walk above sees only the values one sample produces; the declared types cover the rest.
        var seen = new HashSet<Type>();
        AssertPlainType(typeof(ServiceModel), nameof(ServiceModel), seen);
        Assert.Contains(typeof(ParameterModel), seen);
    }

    private static CSharpCompilation Initial() => GeneratorHarness.CreateCompilation(
        new SourceFile("Services.cs", Services),
        new SourceFile("Pricing.cs", Unrelated));

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) FirstRun()
    {
        var compilation = Initial();
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        return (driver, compilation);
    }

    private static CSharpCompilation Replace(CSharpCompilation compilation, string path, string text)
    {
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == path);
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, path));
    }

    private static void AssertAllOutputs(GeneratorRunResult result, string step, params IncrementalStepRunReason[] allowed)
    {
        Assert.True(result.TrackedSteps.TryGetValue(step, out var runs), $"step {step} did not run");
        var outputs = runs.SelectMany(r => r.Outputs).ToList();
        Assert.NotEmpty(outputs);
        foreach (var (value, reason) in outputs)
        {
            Assert.True(allowed.Contains(reason), $"step {step}: an output is {reason} ({value})");
        }
    }

    private static void AssertSourceOutputs(GeneratorRunResult result, params IncrementalStepRunReason[] allowed)
    {
        var outputs = result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(r => r.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.True(allowed.Contains(o.Reason), $"source output is {o.Reason}"));
    }

    private static readonly Type[] s_forbidden =
    {
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel), typeof(Location),
        typeof(SyntaxToken), typeof(SyntaxReference), typeof(AttributeData), typeof(IOperation),
    };

    private static int AssertPlainData(object? value, string path, HashSet<object> seen)
    {
        if (value is null) return 0;
        var type = value.GetType();
        Assert.False(s_forbidden.Any(f => f.IsAssignableFrom(type)), $"{path} holds a {type.FullName}");
        if (type.IsPrimitive || type.IsEnum || value is string || value is decimal) return 1;
        if (!type.IsValueType && !seen.Add(value)) return 0;

        int count = 1;
        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (var item in items) count += AssertPlainData(item, $"{path}[{i++}]", seen);
            return count;
        }

        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            count += AssertPlainData(field.GetValue(value), path + "." + field.Name, seen);
        }

        return count;
    }

    private static void AssertPlainType(Type type, string path, HashSet<Type> seen)
    {
        Assert.False(s_forbidden.Any(f => f.IsAssignableFrom(type) || type.IsAssignableFrom(f) && type != typeof(object)),
            $"{path} is declared as {type.FullName}, which can hold Roslyn objects");
        Assert.NotEqual(typeof(object), type);
        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || !seen.Add(type)) return;

        var elementType = type.IsArray ? type.GetElementType() : null;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EquatableArray<>)) elementType = type.GetGenericArguments()[0];
        if (elementType is not null)
        {
            AssertPlainType(elementType, path + "[]", seen);
            return;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            AssertPlainType(underlying, path, seen);
            return;
        }

        Assert.True(type.Namespace == typeof(ServiceModel).Namespace || type.Namespace == "Microsoft.CodeAnalysis.Text",
            $"{path} is declared as {type.FullName}: model types must be the generator's own records or Roslyn text values");
        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertPlainType(field.FieldType, path + "." + field.Name, seen);
        }
    }
}
