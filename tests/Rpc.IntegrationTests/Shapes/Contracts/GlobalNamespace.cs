// Shape: an interface in the global namespace, and one nested in a class there.
using System.Threading.Tasks;
using RpcGen;

/// <summary>A service declared outside any namespace.</summary>
[RpcService(Queue = "shapes-global")]
public interface IGlobalGreeter
{
    /// <summary>Returns a greeting.</summary>
    Task<string> GreetAsync(string name);
}

/// <summary>A class holding a service interface.</summary>
public static class GlobalHolder
{
    /// <summary>A service nested in a class of the global namespace.</summary>
    [RpcService(Queue = "shapes-global-nested")]
    public interface INestedCounter
    {
        /// <summary>Returns <paramref name="value"/> plus one.</summary>
        ValueTask<int> NextAsync(int value);
    }
}
