using System;

namespace RpcGen.Server;

/// <summary>What every streamed result of one server is sent with: its publisher, its error rules, and the stream limits.</summary>
/// <param name="Replies">Publishes the stream's messages.</param>
/// <param name="Errors">Writes the error marker's body.</param>
/// <param name="Window">Items sent ahead when the caller asks for no window (<see cref="RpcClientOptions.StreamWindow"/>).</param>
/// <param name="MaxWindow">The most items ever sent ahead of those the caller took, whatever it grants (<see cref="RpcServerOptions.MaxStreamWindow"/>).</param>
/// <param name="BatchSize">Items ready together that share a message (<see cref="RpcServerOptions.StreamBatchSize"/>).</param>
/// <param name="IdleTimeout">A caller silent this long is gone (<see cref="RpcServerOptions.StreamIdleTimeout"/>).</param>
/// <param name="Time">The clock of the idle timeout and of the server's calls' deadlines (<see cref="RpcConnectionOptions.TimeProvider"/>).</param>
internal sealed record ServerStreamSettings(IReplyPublisher Replies, ErrorReplies Errors, long Window, long MaxWindow, int BatchSize, TimeSpan IdleTimeout,
    TimeProvider Time);
