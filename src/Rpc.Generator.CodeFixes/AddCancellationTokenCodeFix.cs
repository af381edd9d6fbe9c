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
/// RPCGEN014: appends <c>CancellationToken cancellationToken = default</c>. Optional, so every existing caller still
/// compiles, and never sent, so the wire contract does not change.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddCancellationTokenCodeFix)), Shared]
public sealed class AddCancellationTokenCodeFix : MethodCodeFix
{
    /// <summary>Fixes RPCGEN014.</summary>
    public AddCancellationTokenCodeFix() : base("RPCGEN014")
    {
    }

    private protected override Task<MethodFix?> FixForAsync(Document document, MethodDeclarationSyntax method, CancellationToken cancellationToken) =>
        Task.FromResult<MethodFix?>(new MethodFix("Add a CancellationToken parameter", token => FixAsync(document, method, token)));

    private static async Task<Document> FixAsync(Document document, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null) return document;

        // A params array must stay last; the token goes just before it.
        var parameters = method.ParameterList.Parameters;
        var name = parameters.Any(p => p.Identifier.ValueText == "cancellationToken") ? "rpcCancellationToken" : "cancellationToken";
        var token = SyntaxFactory.Parameter(SyntaxFactory.Identifier(name))
            .WithType(SyntaxFactory.IdentifierName("CancellationToken").WithTrailingTrivia(SyntaxFactory.Space))
            .WithDefault(SyntaxFactory.EqualsValueClause(SyntaxFactory.LiteralExpression(SyntaxKind.DefaultLiteralExpression, SyntaxFactory.Token(SyntaxKind.DefaultKeyword)))
                .WithEqualsToken(SyntaxFactory.Token(SyntaxKind.EqualsToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(SyntaxFactory.Space)));
        int index = parameters.Count > 0 && parameters[parameters.Count - 1].Modifiers.Any(SyntaxKind.ParamsKeyword) ? parameters.Count - 1 : parameters.Count;
        var list = method.ParameterList.WithParameters(parameters.Insert(index, token));
        var separators = list.Parameters.GetSeparators().Select(s => s.WithTrailingTrivia(SyntaxFactory.Space));
        list = list.WithParameters(SyntaxFactory.SeparatedList(list.Parameters, separators));
        var fixedRoot = root.ReplaceNode(method.ParameterList, list);
        return document.WithSyntaxRoot(Fixes.WithUsing(fixedRoot, Fixes.Threading));
    }
}
