using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>How a failure is written for the caller: a fault the method declares with its data, else the error type and message.</summary>
internal sealed class ErrorReplies
{
    private readonly RpcSettings _options;

    public ErrorReplies(RpcSettings options) => _options = options;

    /// <summary>The error body: a declared fault with its data, else the type and message (with details when allowed).</summary>
    public void Write(PooledBufferWriter body, RpcMethodDescriptor? method, CallFailure failure)
    {
        if (!TryWriteDeclaredFault(body, method, failure, out _)) WriteError(body, failure);
    }

    /// <summary>The type and message, with the exception's details when the options allow it and the handler threw.</summary>
    public void WriteError(PooledBufferWriter body, CallFailure failure) =>
        ErrorBody.Write(body, failure.Type, failure.Message, _options.IncludeExceptionDetails && failure.Retryable ? failure.Exception?.ToString() : null);

    /// <summary>
    /// A fault the method declares ([RpcFault]) goes back with its properties in <c>data</c>. If one of its properties
    /// cannot be serialised it is answered like any other exception instead (false, the body left empty).
    /// </summary>
    public bool TryWriteDeclaredFault(PooledBufferWriter body, RpcMethodDescriptor? method, CallFailure failure, out string wireType)
    {
        wireType = "";
        if (method is null || failure.Exception is not { } e || e is RpcBadRequestException || RpcFaultDescriptor.Find(method, e) is not { } fault) return false;
        try
        {
            ErrorBody.WriteFault(body, fault, e, _options.JsonSerializerOptions, _options.IncludeExceptionDetails ? e.ToString() : null);
        }
        catch (System.Exception)
        {
            body.Clear();
            return false;
        }

        wireType = fault.WireType;
        return true;
    }
}
