using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Generator.CodeFixes;

/// <summary>RPCGEN001: a synchronous return type becomes its awaitable: <c>void</c> → <c>Task</c>, <c>T</c> → <c>Task&lt;T&gt;</c>.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ReturnTaskCodeFix)), Shared]
public sealed class ReturnTaskCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create("RPCGEN001");

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var method = await Fixes.MethodAtAsync(context.Document, context.Span, context.CancellationToken).ConfigureAwait(false);
        if (method is null) return;
        bool isVoid = method.ReturnType is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword };
        var title = isVoid ? "Return Task" : "Return Task<" + method.ReturnType + ">";
        context.RegisterCodeFix(
            CodeAction.Create(title, token => FixAsync(context.Document, method, isVoid, token), equivalenceKey: nameof(ReturnTaskCodeFix)),
            context.Diagnostics);
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
