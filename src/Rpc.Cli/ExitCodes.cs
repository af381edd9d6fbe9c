namespace RpcGen.Cli;

/// <summary>What rpcgen's exit code says about the outcome; docs/cli.md lists them for scripts.</summary>
internal static class ExitCodes
{
    /// <summary>The call returned, the stream ended, the message was confirmed.</summary>
    public const int Ok = 0;

    /// <summary>Something else failed: a bug, a broker refusal the tool cannot classify.</summary>
    public const int Failed = 1;

    /// <summary>The command line or its input is wrong: usage, JSON, schema, unknown service or method, no contract.</summary>
    public const int Usage = 2;

    /// <summary>The server answered with a fault the contract declares; its data is printed.</summary>
    public const int Fault = 3;

    /// <summary>The server answered with an error the contract does not declare (an rpc: error or an exception).</summary>
    public const int RemoteError = 4;

    /// <summary>No answer in time: the timeout or deadline passed.</summary>
    public const int Timeout = 5;

    /// <summary>Nobody could take it: the broker is unreachable, no server consumes the queue, the connection went.</summary>
    public const int Unavailable = 6;

    /// <summary>Interrupted (Ctrl-C); a call or stream in flight was cancelled at the server too.</summary>
    public const int Interrupted = 130;
}

/// <summary>A failure the user can act on: printed as "error: message" on stderr, with its exit code.</summary>
internal sealed class CliException(int exitCode, string message) : System.Exception(message)
{
    /// <summary>The process's exit code.</summary>
    public int ExitCode { get; } = exitCode;
}
