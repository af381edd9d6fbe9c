using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Generator.CodeFixes;

/// <summary>What the fixes share: finding the method a diagnostic is on, and making sure a using is there.</summary>
internal static class Fixes
{
    public static async Task<MethodDeclarationSyntax?> MethodAtAsync(Document document, Microsoft.CodeAnalysis.Text.TextSpan span, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        return root?.FindToken(span.Start).Parent?.AncestorsAndSelf().OfType<MethodDeclarationSyntax>().FirstOrDefault();
    }

    /// <summary>Adds <c>using {ns};</c> at the top of the file unless it is already there.</summary>
    public static SyntaxNode WithUsing(SyntaxNode root, string ns)
    {
        if (root is not CompilationUnitSyntax unit) return root;
        if (unit.Usings.Any(u => u.Alias is null && u.StaticKeyword.IsKind(SyntaxKind.None) && u.Name?.ToString() == ns)) return unit;
        var directive = SyntaxFactory.UsingDirective(SyntaxFactory.ParseName(ns)).WithTrailingTrivia(SyntaxFactory.ElasticCarriageReturnLineFeed);
        return unit.AddUsings(directive);
    }

    public const string Tasks = "System.Threading.Tasks";
    public const string Threading = "System.Threading";
}
