using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace RpcGen.Generator.Contracts;

/// <summary>
/// RpcContracts.Shipped.txt, read: the wire contract a project has shipped, which its code must keep (in the spirit of
/// PublicAPI.Shipped.txt). Given to the compiler as an AdditionalFiles item; a project without one is not checked.
/// </summary>
internal sealed class ShippedContract
{
    public const string FileName = "RpcContracts.Shipped.txt";

    private readonly Dictionary<string, Dictionary<string, ShippedMethod>> _byQueue = new(StringComparer.Ordinal);

    private ShippedContract()
    {
    }

    public List<(Location Location, string Line)> UnreadableLines { get; } = new();

    /// <summary>Every shipped method, for the check of what is gone.</summary>
    public IEnumerable<ShippedMethod> Methods
    {
        get
        {
            foreach (var queue in _byQueue.Values)
            {
                foreach (var method in queue.Values) yield return method;
            }
        }
    }

    /// <summary>The shipped methods of the service on <paramref name="queue"/>, by wire name; empty for a service never shipped.</summary>
    public IReadOnlyDictionary<string, ShippedMethod> MethodsOf(string queue) =>
        _byQueue.TryGetValue(queue, out var methods) ? methods : new Dictionary<string, ShippedMethod>();

    /// <summary>The contract in <paramref name="files"/>, or null when none of them is RpcContracts.Shipped.txt.</summary>
    public static ShippedContract? Read(IEnumerable<AdditionalText> files, CancellationToken cancellationToken)
    {
        ShippedContract? contract = null;
        foreach (var file in files)
        {
            if (!string.Equals(System.IO.Path.GetFileName(file.Path), FileName, StringComparison.OrdinalIgnoreCase)) continue;
            var text = file.GetText(cancellationToken);
            if (text is null) continue;
            contract ??= new ShippedContract();
            foreach (var line in text.Lines)
            {
                var content = line.ToString().Trim();
                if (content.Length == 0 || content[0] == '#') continue;
                var location = Location.Create(file.Path, line.Span, text.Lines.GetLinePositionSpan(line.Span));
                if (ContractMethod.Parse(content) is not { } method)
                {
                    contract.UnreadableLines.Add((location, content));
                    continue;
                }

                if (!contract._byQueue.TryGetValue(method.Queue, out var methods))
                {
                    contract._byQueue[method.Queue] = methods = new Dictionary<string, ShippedMethod>(StringComparer.Ordinal);
                }

                methods[method.WireName] = new ShippedMethod(method, location);
            }
        }

        return contract;
    }
}

/// <summary>A shipped method and its line in the file.</summary>
internal sealed record ShippedMethod(ContractMethod Method, Location Location);
