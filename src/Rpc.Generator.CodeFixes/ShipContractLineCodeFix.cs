using System;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Text;

namespace RpcGen.Generator.CodeFixes;

/// <summary>
/// RPCGEN030: writes the method's line into RpcContracts.Shipped.txt (replacing the method's old line, if it has one),
/// the way the PublicAPI analyzers' fix records a symbol. Offered, never applied for you: a line belongs in the file
/// once the version that has it ships.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ShipContractLineCodeFix)), Shared]
public sealed class ShipContractLineCodeFix : CodeFixProvider
{
    // ContractCheck.LineProperty, KeyProperty and ShippedContract.FileName in RpcGen.Generator, which this assembly does not reference.
    private const string LineProperty = "ContractLine";
    private const string KeyProperty = "ContractKey";
    private const string FileName = "RpcContracts.Shipped.txt";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds => ImmutableArray.Create("RPCGEN030");

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => null; // each fix rewrites the same file

    /// <inheritdoc/>
    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var file = context.Document.Project.AdditionalDocuments.FirstOrDefault(d => string.Equals(d.Name, FileName, StringComparison.OrdinalIgnoreCase));
        if (file is null) return Task.CompletedTask;
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(LineProperty, out var line) || line is null) continue;
            if (!diagnostic.Properties.TryGetValue(KeyProperty, out var key) || key is null) continue;
            context.RegisterCodeFix(
                CodeAction.Create("Record it in " + FileName, token => WriteLineAsync(file, key, line, token), equivalenceKey: nameof(ShipContractLineCodeFix)),
                diagnostic);
        }

        return Task.CompletedTask;
    }

    private static async Task<Solution> WriteLineAsync(TextDocument file, string key, string line, CancellationToken cancellationToken)
    {
        var text = await file.GetTextAsync(cancellationToken).ConfigureAwait(false);
        var lines = text.Lines.Select(l => l.ToString()).ToList();
        if (lines.Count > 0 && lines[lines.Count - 1].Length == 0) lines.RemoveAt(lines.Count - 1);
        int existing = lines.FindIndex(l => l.Trim().StartsWith(key + "(", StringComparison.Ordinal));
        if (existing >= 0) lines[existing] = line;
        else lines.Add(line);
        var newline = text.Lines.Count > 1 && text.ToString().Contains("\r\n") ? "\r\n" : "\n";
        var updated = SourceText.From(string.Join(newline, lines) + newline, text.Encoding);
        return file.Project.Solution.WithAdditionalDocumentText(file.Id, updated);
    }
}
