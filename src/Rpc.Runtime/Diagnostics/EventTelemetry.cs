using System;
using System.Diagnostics;
using System.Threading.Tasks;

namespace RpcGen.Diagnostics;

/// <summary>
/// Counts a subscriber's handler runs: <c>rpcgen.events.handled</c> when one completes, <c>rpcgen.events.failed</c>
/// when one throws (every try of a retried event). Wrapped around the dispatcher, so it sees exactly the handler's
/// outcome; events that never reach a handler (an unknown event name, an unreadable body) are counted where they go,
/// by <c>rpcgen.events.dead_lettered</c>.
/// </summary>
internal static class EventTelemetry
{
    public static Func<RpcServerCall, ValueTask> Counted(string events, Func<RpcServerCall, ValueTask> handle) =>
        call => RpcTelemetry.EventsHandled.Enabled || RpcTelemetry.EventsFailed.Enabled ? CountAsync(events, handle, call) : handle(call);

    private static async ValueTask CountAsync(string events, Func<RpcServerCall, ValueTask> handle, RpcServerCall call)
    {
        try
        {
            await handle(call).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (RpcTelemetry.EventsFailed.Enabled)
            {
                RpcTelemetry.EventsFailed.Add(1, new TagList
                {
                    { RpcTelemetry.RpcSystemTag, RpcTelemetry.RpcSystem },
                    { RpcTelemetry.RpcServiceTag, events },
                    { RpcTelemetry.RpcMethodTag, call.Method.WireName },
                    { RpcTelemetry.ErrorTypeTag, RpcTelemetry.ErrorType(e) },
                });
            }

            throw;
        }

        if (RpcTelemetry.EventsHandled.Enabled)
        {
            RpcTelemetry.EventsHandled.Add(1, new TagList
            {
                { RpcTelemetry.RpcSystemTag, RpcTelemetry.RpcSystem },
                { RpcTelemetry.RpcServiceTag, events },
                { RpcTelemetry.RpcMethodTag, call.Method.WireName },
            });
        }
    }
}
