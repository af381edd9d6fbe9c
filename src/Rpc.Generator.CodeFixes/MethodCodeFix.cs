using System;
using System.Collections.Immutable;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Generator.CodeFixes;

/// <summary>
/// A fix for one diagnostic that is reported on a method declaration and rewrites that method's document with one code
/// action for all the diagnostics in the span. A subclass says only what the action is called and what it does.
/// </summary>
public abstract class MethodCodeFix : CodeFixProvider
{
    private readonly ImmutableArray<string> _diagnosticIds;

    // private protected: the fixes of this assembly are the only ones; no other assembly derives from it.
    private protected MethodCodeFix(string diagnosticId) => _diagnosticIds = ImmutableArray.Create(diagnosticId);

    /// <inheritdoc/>
    public sealed override ImmutableArray<string> FixableDiagnosticIds => _diagnosticIds;

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public sealed override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var method = await Fixes.MethodAtAsync(context.Document, context.Span, context.CancellationToken).ConfigureAwait(false);
        if (method is null) return;
        var fix = await FixForAsync(context.Document, method, context.CancellationToken).ConfigureAwait(false);
        if (fix is null) return;
        // The equivalence key is the fix's class name, which fix-all groups by.
        context.RegisterCodeFix(CodeAction.Create(fix.Title, fix.ApplyAsync, equivalenceKey: GetType().Name), context.Diagnostics);
    }

    /// <summary>The action to offer for <paramref name="method"/>, or null to offer none.</summary>
    private protected abstract Task<MethodFix?> FixForAsync(Document document, MethodDeclarationSyntax method, CancellationToken cancellationToken);

    /// <summary>A code action's title and the rewrite it runs when chosen.</summary>
    private protected sealed class MethodFix(string title, Func<CancellationToken, Task<Document>> applyAsync)
    {
        public string Title { get; } = title;

        public Func<CancellationToken, Task<Document>> ApplyAsync { get; } = applyAsync;
    }
}
