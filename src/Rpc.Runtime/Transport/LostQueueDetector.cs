using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Diagnostics;

namespace RpcGen.Transport;

/// <summary>
/// Notices a durable work queue the broker lost while the connection was down, instead of letting recovery hide it.
/// </summary>
/// <remarks>
/// RabbitMQ.Client's topology recovery re-declares every queue a connection declared. After a broker crash that lost a
/// queue (RabbitMQ 3.x can lose one declared moments before a <c>kill -9</c>, docs/reliability.md), that declare makes
/// it anew, empty, and the confirmed work it held is gone without a trace. So the queues RpcGen declares for services
/// (the queues one-way work is sent to and served from, and their dead-letter queues) are left out of the library's
/// queue recovery (<see cref="Filter"/>). Once the new connection is open, before any consumer is restored on it (a
/// consumer of a missing queue would fail recovery), each is checked with a passive declare: a missing one is logged as
/// an error (1010 <c>QueueLostByBroker</c>) and declared again as RpcGen declares it. Only on connections RpcGen opens:
/// on an app's own connection (<c>RpcConnection.CreateAsync</c>) the app's factory decides, and the library re-declares.
/// Event subscription queues stay with the library's recovery, which restores their bindings too.
/// </remarks>
internal sealed class LostQueueDetector
{
    private readonly ConcurrentDictionary<string, Func<IChannel, Task>> _queues = new(StringComparer.Ordinal);
    private readonly RpcSettings _options;
    private int _checkedThisRecovery = 1;

    public LostQueueDetector(RpcSettings options) => _options = options;

    /// <summary>The library's recovery leaves these queues to <see cref="CheckAsync"/>; everything else it recovers as usual.</summary>
    /// <remarks>
    /// Their bindings too (a quorum queue's dead-letter queue is bound to its dead-letter exchange): the library would
    /// bind a queue it no longer declares, and a binding to a lost queue fails the whole recovery with 404, so the
    /// connection would never come back. <see cref="CheckAsync"/> declares a lost queue again with its bindings.
    /// </remarks>
    public TopologyRecoveryFilter Filter => new()
    {
        QueueFilter = queue => !_queues.ContainsKey(queue.Name),
        BindingFilter = binding => !_queues.ContainsKey(binding.Destination),
    };

    /// <summary>Events of the connection this watches; set once it is open.</summary>
    public void Attach(IConnection connection)
    {
        connection.ConnectionShutdownAsync += (_, reason) =>
        {
            if (reason.Initiator != ShutdownInitiator.Application) Volatile.Write(ref _checkedThisRecovery, 0);
            return Task.CompletedTask;
        };
        // Consumers are restored after queues and bindings; the first one to come is the moment to check, so a server's
        // consumer finds its queue. A connection without consumers (a sender) checks once recovery has finished.
        connection.RecoveringConsumerAsync += (sender, _) => CheckOnceAsync((IConnection)sender);
        connection.RecoverySucceededAsync += (sender, _) => CheckOnceAsync((IConnection)sender);
    }

    /// <summary>
    /// Remembers a durable queue RpcGen declared on this connection, with how to declare it again (with its arguments).
    /// A quorum queue's dead-letter queue, declared with it, is checked too; a classic queue's is made only at its first
    /// dead letter, so its absence says nothing and it stays with the library's recovery.
    /// </summary>
    public void Declared(string queue, Func<IChannel, Task> declareAgain)
    {
        // A queue used as it exists is its owner's to declare again.
        if (QueueDeclarations.TopologyOf(_options, queue).Mode == RpcTopologyMode.UseExisting) return;
        _queues.TryAdd(queue, declareAgain);
        if (QueueDeclarations.BrokerDeadLetters(_options, queue))
        {
            _queues.TryAdd(queue + QueueDeclarations.DeadLetterSuffix,
                again => QueueDeclarations.DeclareDeadLetterAsync(again, _options, queue, CancellationToken.None));
        }
    }

    private async Task CheckOnceAsync(IConnection connection)
    {
        if (Interlocked.Exchange(ref _checkedThisRecovery, 1) != 0) return;
        try
        {
            await CheckAsync(connection).ConfigureAwait(false);
        }
        catch (Exception) when (!connection.IsOpen)
        {
            // The new connection failed under the check: recovery starts over, and so does the check.
            Volatile.Write(ref _checkedThisRecovery, 0);
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Thrown out of the library's recovery event, it would make recovery start over, again and again: a check
            // that cannot run says so and lets the connection be.
            _options.Loggers.Connection.LogWarning(e, "Checking for durable queues the broker lost during the outage failed");
        }
    }

    private async Task CheckAsync(IConnection connection)
    {
        // All checked before any is declared again: declaring a quorum queue declares its dead-letter queue too, which
        // would hide that one's loss.
        var missing = new System.Collections.Generic.List<(string Queue, Func<IChannel, Task> DeclareAgain)>();
        foreach (var (queue, declareAgain) in _queues)
        {
            if (!await ExistsAsync(connection, queue).ConfigureAwait(false)) missing.Add((queue, declareAgain));
        }

        foreach (var (queue, declareAgain) in missing)
        {
            RpcLog.QueueLostByBroker(_options.Loggers.Connection, queue, AmqpConnector.NodeOf(connection, _options));
            var channel = await connection.CreateChannelAsync().ConfigureAwait(false);
            try
            {
                await declareAgain(channel).ConfigureAwait(false);
                await channel.CloseAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or OperationInterruptedException { ShutdownReason.ReplyCode: not Constants.ConnectionForced })
            {
                // Refused (permissions, arguments): the next send or serve reports it; recovery itself goes on.
                _options.Loggers.Connection.LogWarning(e, "Declaring lost queue '{Queue}' again failed", queue);
            }
            finally
            {
                channel.Dispose();
            }
        }
    }

    /// <summary>A passive declare: NOT_FOUND closes the channel it ran on, so each check has its own.</summary>
    private static async Task<bool> ExistsAsync(IConnection connection, string queue)
    {
        var channel = await connection.CreateChannelAsync().ConfigureAwait(false);
        try
        {
            await channel.QueueDeclarePassiveAsync(queue).ConfigureAwait(false);
            await channel.CloseAsync().ConfigureAwait(false);
            return true;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == Constants.NotFound)
        {
            return false;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode != Constants.ConnectionForced && connection.IsOpen)
        {
            // Refused for another reason (permissions): unknown, so not reported as lost.
            return true;
        }
        finally
        {
            channel.Dispose();
        }
    }
}
