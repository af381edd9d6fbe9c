using System;
using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>
/// Why a request was not answered with a result: an error the runtime decided on (refused before it ran, a reply too
/// large), or an exception from the handler, with the error type and message the caller is told.
/// </summary>
/// <param name="Type">The error type on the wire: an <c>rpc:*</c> type, or the exception's full type name.</param>
/// <param name="Message">The error message on the wire.</param>
/// <param name="Exception">The handler's exception; null for an error the runtime decided on.</param>
/// <param name="Retryable">Whether trying again could help: the handler threw, as opposed to input that can never succeed.</param>
internal readonly record struct CallFailure(string Type, string Message, Exception? Exception, bool Retryable)
{
    /// <summary>An error the runtime decides on, with its documented type: the request would fail the same way again.</summary>
    public static CallFailure Refused(string type, string message) => new(type, message, null, Retryable: false);

    /// <summary>How a handler's exception reaches the caller.</summary>
    public static CallFailure Of(Exception e) => e switch
    {
        RpcBadRequestException bad => new(WireContract.ErrorTypes.BadRequest, bad.Message, bad, Retryable: false),
        RpcResultSerializationException failed => new(WireContract.ErrorTypes.ServerError, failed.Message, failed, Retryable: true),
        _ => new(e.GetType().FullName ?? e.GetType().Name, e.Message, e, Retryable: true),
    };
}
