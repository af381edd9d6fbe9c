// Shape: block namespaces nested in each other, a public and an internal service side by side.
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes
{
    namespace Outer
    {
        namespace Inner
        {
            /// <summary>A public service two namespaces deep.</summary>
            [RpcService]
            public interface IDeepAdder
            {
                /// <summary>Adds two numbers.</summary>
                Task<int> AddAsync(int a, int b);
            }

            [RpcService]
            internal interface IDeepNegator
            {
                Task<int> NegateAsync(int value);
            }
        }
    }
}
