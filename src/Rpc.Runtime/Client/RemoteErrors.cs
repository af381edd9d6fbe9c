using System;
using System.Text.Json;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// Turns an error reply into the exception the caller sees: a fault the method declares (<see cref="RpcFaultAttribute"/>)
/// as that exception, anything else as <see cref="RpcRemoteException"/>. The reply's <c>type</c> only selects among the
/// declared faults; no other type is ever named or built from a reply. Never throws: the body is untrusted input, and
/// an error reply must end its call whatever it holds.
/// </summary>
internal static class RemoteErrors
{
    public static Exception ToException(RpcMethodDescriptor method, string queue, ReadOnlySpan<byte> body, JsonSerializerOptions? json)
    {
        var (type, message, detail) = ErrorBody.Read(body, out var data);
        if (type == ErrorBody.UnreadableType) message += $" (reply from queue '{queue}')";
        if (json is not null && RpcFaultDescriptor.Find(method, type) is { } fault)
        {
            try
            {
                using var document = data.Length == 0 ? null : JsonDocument.Parse(body.Slice(data.Start, data.Length).ToArray());
                return fault.Read(new RpcFaultReader(document?.RootElement.Clone() ?? default, message, json));
            }
            catch (Exception e)
            {
                // A declared fault whose data this client cannot read (contracts out of step), or whose constructor
                // throws on it (user code, given whatever the server sent), still says what happened.
                return new RpcRemoteException(method.Service.Name, method.WireName, type,
                    message + $" (declared fault {fault.WireType} from queue '{queue}', but its data could not be read: {e.GetType().Name}: {e.Message})", detail);
            }
        }

        return new RpcRemoteException(method.Service.Name, method.WireName, type, message, detail) { RemoteData = DataOf(body, data) };
    }

    private static JsonElement? DataOf(ReadOnlySpan<byte> body, (int Start, int Length) data)
    {
        if (data.Length == 0) return null;
        try
        {
            using var document = JsonDocument.Parse(body.Slice(data.Start, data.Length).ToArray());
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            // The error itself still says what happened; data that is not JSON is left out.
            return null;
        }
    }
}
