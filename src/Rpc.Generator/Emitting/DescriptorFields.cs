using System.Collections.Generic;
using System.Linq;
using RpcGen.Generator.Model;

namespace RpcGen.Generator.Emitting;

/// <summary>
/// The names of a descriptor class's fields, after what they describe (<c>GetOrderMethod</c>, <c>OutOfStockFault</c>), so
/// generated clients read <c>CreateRequest(ShopRpcDescriptor.GetOrderMethod)</c>. Overloads and look-alikes get a
/// trailing <c>_</c> in declaration order, which keeps each name stable while later methods are added.
/// </summary>
internal sealed class DescriptorFields
{
    /// <summary>The field of the service's or events' descriptor itself.</summary>
    public const string Service = "Service";

    /// <summary>The field of an [RpcEvents] interface's descriptor.</summary>
    public const string Events = "Events";

    /// <summary>The module initializer.</summary>
    public const string Register = "Register";

    private readonly Dictionary<string, string> _faults = new();

    public DescriptorFields(ServiceModel service)
    {
        var taken = new HashSet<string> { Service, Events, Register, service.DescriptorName };
        foreach (var fault in service.Methods.SelectMany(m => m.Faults))
        {
            if (!_faults.ContainsKey(fault.Type)) _faults.Add(fault.Type, Take(FaultBaseName(fault.Type) + "Fault", taken));
        }

        Methods = service.Methods.Select(m => Take(MethodBaseName(m.Name) + "Method", taken)).ToArray();
    }

    /// <summary>The methods' fields, in the service's method order.</summary>
    public IReadOnlyList<string> Methods { get; }

    /// <summary>The field of the fault descriptor of exception type <paramref name="type"/> (global::-qualified).</summary>
    public string Fault(string type) => _faults[type];

    private static string Take(string name, HashSet<string> taken)
    {
        name = ServiceEmitter.Unique(name, taken);
        taken.Add(name);
        return name;
    }

    /// <summary>GetOrderAsync → GetOrder; @class → Class.</summary>
    private static string MethodBaseName(string name)
    {
        name = name.TrimStart('@');
        if (name.Length > 5 && name.EndsWith("Async", System.StringComparison.Ordinal)) name = name.Substring(0, name.Length - 5);
        return char.ToUpperInvariant(name[0]) + name.Substring(1);
    }

    /// <summary>global::Shop.OutOfStockException → OutOfStock.</summary>
    private static string FaultBaseName(string type)
    {
        var name = type.Substring(type.LastIndexOf('.') + 1).TrimStart('@');
        if (name.Length > 9 && name.EndsWith("Exception", System.StringComparison.Ordinal)) name = name.Substring(0, name.Length - 9);
        return name;
    }
}
