// Shape: user types whose simple names clash with System types: a Task class in the service's own namespace and an
// Action class from another namespace, used beside the real Task.
using Action = RpcGen.IntegrationTests.Shapes.Clashes.Domain.Action;

namespace RpcGen.IntegrationTests.Shapes.Clashes.Domain
{
    internal sealed class Action
    {
        public string Verb { get; set; } = "";
    }
}

namespace RpcGen.IntegrationTests.Shapes.Clashes
{
    internal sealed class Task
    {
        public string Title { get; set; } = "";
    }

    [RpcService]
    internal interface ITaskBoard
    {
        System.Threading.Tasks.Task<Task> CreateAsync(string title, Action action);

        System.Threading.Tasks.Task<Task?> FindAsync(Task? probe);

        System.Threading.Tasks.ValueTask<Action[]> ActionsAsync(Task task);

        System.Threading.Tasks.Task ClearAsync();
    }
}
