namespace RpcGen;

/// <summary>How RpcGen treats a queue or exchange it uses: declares it by its own rules, finds it as it is, or declares it as given.</summary>
public enum RpcTopologyMode
{
    /// <summary>
    /// RpcGen declares it with its own settings (durable; a queue with the arguments its <see cref="RpcQueueType"/> needs,
    /// a quorum queue with its delivery limit and dead-letter exchange): the default. An existing one with other settings
    /// is refused by the broker, and RpcGen says what differs.
    /// </summary>
    Declare = 0,

    /// <summary>
    /// RpcGen declares nothing: it checks (a passive declare) that the queue or exchange exists, whatever its type,
    /// durability and arguments, and fails naming it when it does not. For topology another system or an operator owns.
    /// </summary>
    UseExisting = 1,

    /// <summary>
    /// RpcGen declares it with the durability and arguments given in the topology, and adds nothing: no dead-letter
    /// exchange, no delivery limit, no single-active-consumer. So it meets a queue or exchange another program declares
    /// the same way (the RabbitMQ tutorials' quorum <c>task_queue</c>, their non-durable <c>topic_logs</c>).
    /// </summary>
    DeclareAsGiven = 2,
}
