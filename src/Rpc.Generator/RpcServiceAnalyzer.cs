using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RpcGen.Generator.Contracts;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Parsing;

namespace RpcGen.Generator;

/// <summary>
/// Reports what keeps an [RpcService] interface from being generated. An analyzer rather than the generator reports
/// them because only analyzer diagnostics carry locations in the user's syntax trees: #pragma warning disable,
/// .editorconfig severities and code fixes attach to them. It runs the generator's own parser, so both agree on which
/// services are valid; the generator stays silent and skips the invalid ones.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RpcServiceAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => DiagnosticDescriptors.All;

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var serviceAttribute = start.Compilation.GetTypeByMetadataName(AttributeNames.RpcService);
            if (serviceAttribute is null) return;
            var eventsAttribute = start.Compilation.GetTypeByMetadataName(AttributeNames.RpcEvents);
            var contract = ShippedContract.Read(start.Options.AdditionalFiles, start.CancellationToken) is { } shipped ? new ContractCheck(shipped) : null;
            start.RegisterSymbolAction(symbolContext => Analyze(symbolContext, serviceAttribute, eventsAttribute, contract), SymbolKind.NamedType);
            if (contract is not null)
            {
                start.RegisterCompilationEndAction(end =>
                {
                    foreach (var diagnostic in contract.Finish()) end.ReportDiagnostic(diagnostic);
                });
            }
        });
    }

    private static void Analyze(SymbolAnalysisContext context, INamedTypeSymbol serviceAttribute, INamedTypeSymbol? eventsAttribute, ContractCheck? contract)
    {
        if (context.Symbol is not INamedTypeSymbol { TypeKind: TypeKind.Interface } symbol) return;
        var attribute = symbol.GetAttributes().FirstOrDefault(a =>
            SymbolEqualityComparer.Default.Equals(a.AttributeClass, serviceAttribute) || SymbolEqualityComparer.Default.Equals(a.AttributeClass, eventsAttribute));
        if (attribute is null) return;

        var diagnostics = new DiagnosticBag(symbol.Locations.FirstOrDefault());
        var model = ServiceParser.Parse(symbol, attribute, context.Compilation, diagnostics, context.CancellationToken);

        // RpcContracts.Shipped.txt, when the project has one: what this service must keep for peers already deployed.
        if (contract is not null)
        {
            if (model is null) contract.SkipBrokenService();
            else contract.Check(model, symbol, diagnostics);
        }

        // Not part of parsing: a gap in the JSON context does not stop code from being generated, it stops the build.
        JsonContextCoverage.Check(symbol, attribute, context.Compilation, diagnostics, context.CancellationToken);
        foreach (var diagnostic in diagnostics.ToImmutableArray()) context.ReportDiagnostic(diagnostic);
    }
}
