// Shape: interfaces nested in (non-generic) classes, two levels deep, public and internal; the generated types
// live in the namespace and take the containing classes' names.
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.Nesting
{
    /// <summary>Holds services.</summary>
    public sealed class Container
    {
        /// <summary>A public service in a public class.</summary>
        [RpcService]
        public interface IClock
        {
            /// <summary>Adds <paramref name="seconds"/> to <paramref name="time"/>.</summary>
            Task<System.DateTimeOffset> AddSecondsAsync(System.DateTimeOffset time, double seconds);
        }

        internal static class Inner
        {
            [RpcService]
            public interface IClock
            {
                Task<long> TicksAsync(System.DateTimeOffset time);
            }
        }
    }

    internal partial class InternalContainer
    {
        [RpcService]
        internal interface IUpper
        {
            Task<string> UpperAsync(string text);
        }
    }
}
