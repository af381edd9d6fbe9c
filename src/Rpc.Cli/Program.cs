using System;
using System.CommandLine;
using RpcGen;
using RpcGen.Cli;
using RpcGen.Cli.Commands;

// rpcgen: RpcGen from the shell. Every verb reads the contracts from the AsyncAPI documents RpcGen writes and talks to
// RabbitMQ through RpcGen's own runtime (docs/cli.md).
var common = new CommonOptions();
var root = new RootCommand("rpcgen: call, stream, send, publish and tail RpcGen services, replay dead letters, apply topology and watch live rates.");
common.AddTo(root);
root.Add(DescribeCommand.Create(common));
root.Add(CallCommand.Create(common));
root.Add(StreamCommand.Create(common));
root.Add(SendCommand.Create(common));
root.Add(PublishCommand.Create(common));
root.Add(TailCommand.Create(common));
root.Add(DeadLettersCommand.Create(common));
root.Add(TopologyCommand.Create(common));
root.Add(TopCommand.Create(common));

var invocation = new InvocationConfiguration
{
    // A cancelled call or stream sends its cancel to the server and closes the connection: give that time after Ctrl-C.
    ProcessTerminationTimeout = TimeSpan.FromSeconds(10),
    EnableDefaultExceptionHandler = false,
};
try
{
    return await root.Parse(args).InvokeAsync(invocation);
}
catch (CliException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return e.ExitCode;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("interrupted.");
    return ExitCodes.Interrupted;
}
catch (RpcException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return e.StatusCode == RpcStatusCode.Unavailable ? ExitCodes.Unavailable : ExitCodes.Failed;
}
