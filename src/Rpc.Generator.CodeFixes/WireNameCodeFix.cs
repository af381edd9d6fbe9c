using System;
using System.Collections.Generic;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Generator.CodeFixes;

/// <summary>
/// RPCGEN007: gives the second of two methods that share a wire name a distinct one with <c>[RpcMethod("...")]</c>,
/// made from its name and its parameters (FindAsync(string name) → "FindByName"), so overloads read apart on the wire.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(WireNameCodeFix)), Shared]
public sealed class WireNameCodeFix : MethodCodeFix
{
    private const string MethodAttribute = "RpcGen.RpcMethodAttribute";

    /// <summary>Fixes RPCGEN007.</summary>
    public WireNameCodeFix() : base("RPCGEN007")
    {
    }

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => null; // each fix must see the names the previous one chose

    private protected override async Task<MethodFix?> FixForAsync(Document document, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (model?.GetDeclaredSymbol(method, cancellationToken) is not { } symbol) return null;

        var name = DistinctName(symbol, TakenNames(symbol.ContainingType));
        return new MethodFix($"Name it [RpcMethod(\"{name}\")] on the wire", token => WithWireNameAsync(document, method, name, token));
    }

    /// <summary>The wire names the interface uses, the same way the generator reads them.</summary>
    private static HashSet<string> TakenNames(INamedTypeSymbol service)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in new[] { service }.Concat(service.AllInterfaces))
        {
            foreach (var method in type.GetMembers().OfType<IMethodSymbol>()) taken.Add(WireName(method));
        }

        return taken;
    }

    private static string WireName(IMethodSymbol method)
    {
        var attribute = method.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == MethodAttribute);
        if (attribute is { ConstructorArguments.Length: 1 } && attribute.ConstructorArguments[0].Value is string explicitName) return explicitName;
        return BaseName(method.Name);
    }

    private static string BaseName(string methodName) =>
        methodName.Length > 5 && methodName.EndsWith("Async", StringComparison.Ordinal) ? methodName.Substring(0, methodName.Length - 5) : methodName;

    private static string DistinctName(IMethodSymbol method, HashSet<string> taken)
    {
        var parameters = method.Parameters.Where(p => p.Type.ToDisplayString() != "System.Threading.CancellationToken").ToList();
        var name = BaseName(method.Name) + (parameters.Count == 0 ? string.Empty : "By" + string.Concat(parameters.Select(p => Pascal(p.Name))));
        if (!taken.Contains(name)) return name;
        for (int i = 2; ; i++)
        {
            if (!taken.Contains(name + i)) return name + i;
        }
    }

    private static string Pascal(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name.Substring(1);

    /// <summary>Names <paramref name="method"/> <paramref name="name"/> on the wire: in its [RpcMethod], added if need be.</summary>
    internal static async Task<Document> WithWireNameAsync(Document document, MethodDeclarationSyntax method, string name, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null) return document;
        var literal = SyntaxFactory.AttributeArgument(SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(name)));

        // An [RpcMethod] already there keeps its other settings; its positional name, if any, is replaced.
        var existing = method.AttributeLists.SelectMany(l => l.Attributes).FirstOrDefault(a => a.Name.ToString() is "RpcMethod" or "RpcMethodAttribute" or "RpcGen.RpcMethod" or "RpcGen.RpcMethodAttribute");
        SyntaxNode fixedRoot;
        if (existing is not null)
        {
            var arguments = existing.ArgumentList?.Arguments ?? default;
            var positional = arguments.FirstOrDefault(a => a.NameEquals is null && a.NameColon is null);
            var updated = positional is not null ? arguments.Replace(positional, literal) : arguments.Insert(0, literal);
            fixedRoot = root.ReplaceNode(existing, existing.WithArgumentList(SyntaxFactory.AttributeArgumentList(updated)));
        }
        else
        {
            var attribute = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(
                SyntaxFactory.Attribute(SyntaxFactory.IdentifierName("RpcMethod"), SyntaxFactory.AttributeArgumentList(SyntaxFactory.SingletonSeparatedList(literal)))));
            var leading = method.GetLeadingTrivia();
            var newMethod = method.WithoutLeadingTrivia().WithAttributeLists(method.AttributeLists.Insert(0, attribute.WithTrailingTrivia(SyntaxFactory.Space))).WithLeadingTrivia(leading);
            fixedRoot = root.ReplaceNode(method, newMethod);
        }

        return document.WithSyntaxRoot(Fixes.WithUsing(fixedRoot, "RpcGen"));
    }
}
