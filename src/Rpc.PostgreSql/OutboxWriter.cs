using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;
using NpgsqlTypes;

namespace RpcGen.PostgreSql;

/// <summary>One transaction's sink: each captured message is one INSERT in that transaction, with a NOTIFY that PostgreSQL delivers at commit.</summary>
internal sealed class OutboxWriter : IRpcMessageSink
{
    private readonly NpgsqlTransaction _transaction;
    private readonly OutboxSql _sql;

    public OutboxWriter(NpgsqlTransaction transaction, OutboxSql sql)
    {
        _transaction = transaction;
        _sql = sql;
    }

    public async ValueTask CaptureAsync(RpcOutgoingMessage message, CancellationToken cancellationToken)
    {
        var connection = _transaction.Connection
            ?? throw new System.InvalidOperationException(
                $"RPC {message.Service}.{message.Method}: the outbox's transaction is already committed or rolled back, so the message was not written.");
        await using var batch = new NpgsqlBatch(connection, _transaction);
        var insert = new NpgsqlBatchCommand(_sql.Insert);
        var parameters = insert.Parameters;
        parameters.Add(new NpgsqlParameter<string> { TypedValue = message.MessageId, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = message.Service, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = message.Method, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<bool> { TypedValue = message.IsEvent, NpgsqlDbType = NpgsqlDbType.Boolean });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = message.Exchange, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = message.RoutingKey, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = message.ContentType, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<bool> { TypedValue = message.Persistent, NpgsqlDbType = NpgsqlDbType.Boolean });
        parameters.Add(Text(message.Expiration));
        parameters.Add(Text(HeadersText.Write(message.Headers)));
        parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Bytes(message.Body), NpgsqlDbType = NpgsqlDbType.Bytea });
        batch.BatchCommands.Add(insert);
        if (_sql.NotifyOnCommit) batch.BatchCommands.Add(new NpgsqlBatchCommand(_sql.Notify));
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        _sql.Signal.Written();
    }

    /// <summary>A captured body is a whole array already (RpcMessageCapture copies it): no second copy.</summary>
    private static byte[] Bytes(System.ReadOnlyMemory<byte> body) =>
        MemoryMarshal.TryGetArray(body, out var segment) && segment.Array is { } array && segment.Offset == 0 && segment.Count == array.Length
            ? array
            : body.ToArray();

    private static NpgsqlParameter Text(string? value) =>
        new() { Value = (object?)value ?? System.DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
}
