using System;
using System.Linq.Expressions;
using System.Reflection;

namespace RpcGen.Testing;

/// <summary>Reads the method a test names with a method group (<c>e =&gt; e.OrderPlacedAsync</c>) and finds its wire name.</summary>
internal static class MethodSelector
{
    public static string WireNameOf<T>(RpcServiceDescriptor descriptor, Expression<Func<T, Delegate>> method)
    {
        var finder = new Finder();
        finder.Visit(method);
        if (finder.Method is not { } found)
        {
            throw new ArgumentException($"Name a method of {typeof(T).Name} as a method group, e.g. x => x.{descriptor.Methods[0].WireName}Async.", nameof(method));
        }

        foreach (var candidate in descriptor.Methods)
        {
            if (candidate.WireName == found.Name || found.Name == candidate.WireName + "Async") return candidate.WireName;
        }

        throw new ArgumentException($"{typeof(T).Name}.{found.Name} is not a method of service {descriptor.Name}.", nameof(method));
    }

    private sealed class Finder : ExpressionVisitor
    {
        public MethodInfo? Method { get; private set; }

        protected override Expression VisitConstant(ConstantExpression node)
        {
            if (node.Value is MethodInfo method) Method ??= method;
            return node;
        }
    }
}
