using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;

namespace RpcGen.Generator.CodeFixes;

/// <summary>RPCGEN026: puts back the wire name RpcContracts.Shipped.txt ships, with <c>[RpcMethod("...")]</c>.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ShippedWireNameCodeFix)), Shared]
public sealed class ShippedWireNameCodeFix : CodeFixProvider
{
    // ContractCheck.ShippedWireNameProperty in RpcGen.Generator, which this assembly does not reference.
    private const string ShippedWireNameProperty = "ShippedWireName";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create("RPCGEN026");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(ShippedWireNameProperty, out var name) || name is null) continue;
            var method = await Fixes.MethodAtAsync(context.Document, diagnostic.Location.SourceSpan, context.CancellationToken).ConfigureAwait(false);
            if (method is null) continue;
            context.RegisterCodeFix(
                CodeAction.Create($"Keep the shipped wire name: [RpcMethod(\"{name}\")]",
                    token => WireNameCodeFix.WithWireNameAsync(context.Document, method, name, token), equivalenceKey: nameof(ShippedWireNameCodeFix)),
                diagnostic);
        }
    }
}
