using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Generator.CodeFixes;

/// <summary>RPCGEN001: a synchronous return type becomes its awaitable: <c>void</c> → <c>Task</c>, <c>T</c> → <c>Task&lt;T&gt;</c>.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ReturnTaskCodeFix)), Shared]
public sealed class ReturnTaskCodeFix : MethodCodeFix
{
    /// <summary>Fixes RPCGEN001.</summary>
    public ReturnTaskCodeFix() : base("RPCGEN001")
    {
    }

    private protected override Task<MethodFix?> FixForAsync(Document document, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        bool isVoid = method.ReturnType is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword };
        var title = isVoid ? "Return Task" : "Return Task<" + method.ReturnType + ">";
        return Task.FromResult<MethodFix?>(new MethodFix(title, token => FixAsync(document, method, isVoid, token)));
    }

    private static async Task<Document> FixAsync(Document document, MethodDeclarationSyntax method, bool isVoid, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null) return document;
        TypeSyntax task = isVoid
            ? SyntaxFactory.IdentifierName("Task")
            : SyntaxFactory.GenericName(SyntaxFactory.Identifier("Task"), SyntaxFactory.TypeArgumentList(SyntaxFactory.SingletonSeparatedList(method.ReturnType.WithoutTrivia())));
        var fixedRoot = root.ReplaceNode(method.ReturnType, task.WithTriviaFrom(method.ReturnType));
        return document.WithSyntaxRoot(Fixes.WithUsing(fixedRoot, Fixes.Tasks));
    }
}
