using System;
using System.Linq;
using System.Text.Json;
using RpcGen.Cli.Contracts;

namespace RpcGen.Cli.Commands;

/// <summary>
/// How a failed call, stream, send or publish ends the process: a declared fault as JSON with its data on stdout, any
/// other failure as "error: ..." on stderr, each with the exit code of its outcome (<see cref="ExitCodes"/>).
/// </summary>
internal static class CallOutcomes
{
    public static int Report(MethodContract method, RpcException exception)
    {
        if (exception is RpcRemoteException remote && method.Faults.Contains(remote.RemoteType, StringComparer.Ordinal))
        {
            Console.Out.WriteLine(CliJson.Object(writer =>
            {
                writer.WriteString("fault", remote.RemoteType);
                writer.WriteString("message", remote.RemoteMessage);
                writer.WritePropertyName("data");
                if (remote.RemoteData is { } data) data.WriteTo(writer);
                else writer.WriteNullValue();
            }));
            Console.Error.WriteLine($"{method.FullName} failed with its declared fault {remote.RemoteType}.");
            return ExitCodes.Fault;
        }

        var (code, kind) = Classify(exception);
        var text = exception is RpcRemoteException r
            ? $"{method.FullName} failed on the server: {r.RemoteType}: {r.RemoteMessage}"
            : exception.Message;
        Console.Error.WriteLine($"error ({kind}): {text}");
        if (exception is RpcRemoteException { RemoteData: { } extra }) Console.Error.WriteLine("data: " + CliJson.Format(extra, compact: true));
        return code;
    }

    private static (int Code, string Kind) Classify(RpcException exception) => exception.StatusCode switch
    {
        RpcStatusCode.DeadlineExceeded => (ExitCodes.Timeout, "timeout"),
        RpcStatusCode.Unavailable => (ExitCodes.Unavailable, "unavailable"),
        RpcStatusCode.Cancelled => (ExitCodes.Interrupted, "cancelled"),
        _ when exception is RpcRemoteException => (ExitCodes.RemoteError, "remote error"),
        RpcStatusCode.InvalidArgument => (ExitCodes.Usage, "invalid"),
        _ => (ExitCodes.Failed, "failed"),
    };

    /// <summary>True when the reply schema says the method returns nothing (Task, not Task&lt;T&gt;).</summary>
    public static bool ReturnsNothing(MethodContract method) =>
        method.ReplySchema is { } schema && schema.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "null";
}
