namespace RpcGen.Testing;

/// <summary>What happened to a request or an event, as <see cref="RpcTestHarness"/> records it.</summary>
public enum RpcTestEventKind
{
    /// <summary>A client published a request, one-way work or an event (its retried copies are <see cref="Retried"/>).</summary>
    Sent,

    /// <summary>The broker handed a request or an event to a server or subscriber (again after a requeue or retry).</summary>
    Delivered,

    /// <summary>A handler ran and returned without throwing.</summary>
    Handled,

    /// <summary>A handler threw; <see cref="RpcTestRecord.Exception"/> holds what it threw.</summary>
    Faulted,

    /// <summary>A server published a reply (a result, or an error with <see cref="RpcTestRecord.ErrorType"/>) to a call.</summary>
    Answered,

    /// <summary>Failed work or an event went back to its queue to be tried again (a copy with <c>rpc-retries</c>, or a requeue).</summary>
    Retried,

    /// <summary>Failed work or an event reached its <c>{queue}.dead-letter</c> queue.</summary>
    DeadLettered,
}
