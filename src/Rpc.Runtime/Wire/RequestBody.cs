using System;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading;
using System.Text.Json.Serialization.Metadata;

namespace RpcGen.Wire;

/// <summary>
/// The request body rules: no parameters → empty body; one argument → its JSON value as is; two or more → a JSON
/// object keyed by parameter name. This type writes them (client side); the generated client decides which
/// arguments it writes (it leaves out trailing optional ones equal to their defaults). Writers are reused:
/// <see cref="Rent"/> takes this thread's spare one, <see cref="Return"/> keeps it for the next request, so a call
/// allocates neither a buffer nor a <see cref="Utf8JsonWriter"/>.
/// </summary>
internal sealed class RequestBodyWriter
{
    [ThreadStatic] private static RequestBodyWriter? t_spare;

    // A batched call's body is given back on the thread that published its batch, not the caller's, so the caller's
    // thread finds no spare at its next call. Spares given back where one is kept already wait here for any thread,
    // up to SharedSpares (each keeps an array of at most 16 KiB): without them every batched call allocated a writer
    // and its buffer, about 6 KB per call for a 1 KB body (docs/performance.md, issue 27).
    private const int SharedSpares = 256;
    private static readonly ConcurrentQueue<RequestBodyWriter> s_shared = new();
    private static int s_sharedCount;

    private readonly PooledBufferWriter _buffer = new();
    private readonly Utf8JsonWriter _writer;
    private bool _objectStarted;

    private RequestBodyWriter()
    {
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    public static RequestBodyWriter Rent()
    {
        var spare = t_spare;
        if (spare is not null)
        {
            t_spare = null;
            return spare;
        }

        if (Volatile.Read(ref s_sharedCount) > 0 && s_shared.TryDequeue(out spare))
        {
            Interlocked.Decrement(ref s_sharedCount);
            return spare;
        }

        return new RequestBodyWriter();
    }

    /// <summary>Clears the writer and keeps it for this thread's next request. Its body must not be read afterwards.</summary>
    public void Return()
    {
        _writer.Reset();
        _buffer.Reset();
        _objectStarted = false;
        if (t_spare is null)
        {
            t_spare = this;
        }
        else if (Interlocked.Increment(ref s_sharedCount) <= SharedSpares)
        {
            s_shared.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref s_sharedCount);
            _buffer.Dispose();
        }
    }

    public void WriteValue<T>(T value, JsonTypeInfo<T> typeInfo) => JsonSerializer.Serialize(_writer, value, typeInfo);

    public void WriteArgument<T>(string name, T value, JsonTypeInfo<T> typeInfo)
    {
        if (!_objectStarted)
        {
            _writer.WriteStartObject();
            _objectStarted = true;
        }

        _writer.WritePropertyName(name);
        JsonSerializer.Serialize(_writer, value, typeInfo);
    }

    public ReadOnlyMemory<byte> Complete()
    {
        if (_objectStarted)
        {
            _writer.WriteEndObject();
            _objectStarted = false;
        }

        _writer.Flush();
        return _buffer.WrittenMemory;
    }
}

/// <summary>
/// Reads a request body by the same rules (server side), and by the evolution rules that let a contract grow: a
/// method that takes a single value (<see cref="RpcMethodDescriptor.TakesSingleValue"/>) accepts both the first
/// argument's bare value and the object of named arguments, and a missing optional argument takes its default. A
/// first argument of type <see cref="string"/> is also taken as plain text (<see cref="IsText"/>), as the RabbitMQ
/// tutorials' producers send it. Every failure is an <see cref="RpcBadRequestException"/>. A struct held inside
/// <see cref="RpcServerCall"/>, so reading a request allocates no reader.
/// </summary>
internal struct RequestBodyReader
{
    private const string PlainTextContentType = "text/plain";

    // Throws on bytes that are not UTF-8, instead of replacing them: a text argument is the sender's text or refused.
    private static readonly System.Text.UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlyMemory<byte> _body;
    private readonly RpcMethodDescriptor _method;
    private readonly string? _contentType;
    private (int Start, int Length)[]? _arguments;

    public RequestBodyReader(RpcMethodDescriptor method, ReadOnlyMemory<byte> body, string? contentType = null)
    {
        _method = method;
        _body = body;
        _contentType = contentType;
    }

    /// <summary>Checks the body of a method without parameters: empty, <c>null</c> or <c>{}</c>.</summary>
    public void EnsureNoArguments()
    {
        var span = _body.Span.Trim(" \t\r\n"u8);
        if (span.IsEmpty || span.SequenceEqual("null"u8) || span.SequenceEqual("{}"u8)) return;
        throw new RpcBadRequestException($"Method '{_method.WireName}' takes no arguments, but the request body is not empty.");
    }

    public T Read<T>(int index, JsonTypeInfo<T> typeInfo, bool hasDefault, T defaultValue)
    {
        if (index == 0 && typeof(T) == typeof(string) && IsText()) return (T)(object)ReadText();
        var parameter = _method.Parameters[index];
        _arguments ??= LocateArguments();
        var (start, length) = _arguments[index];
        var json = length == 0 ? default : _body.Span.Slice(start, length);

        if (json.IsEmpty)
        {
            if (hasDefault || (parameter.Flags & RpcParameterFlags.Optional) != 0) return defaultValue;
            throw new RpcBadRequestException($"Argument '{parameter.Name}' of method '{_method.WireName}' is missing.");
        }

        T? value;
        try
        {
            value = JsonSerializer.Deserialize(json, typeInfo);
        }
        catch (JsonException e)
        {
            throw new RpcBadRequestException($"Argument '{parameter.Name}' of method '{_method.WireName}' is not a valid {typeof(T).Name}: {e.Message}");
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or ArgumentException or FormatException or OverflowException)
        {
            throw new RpcBadRequestException($"Argument '{parameter.Name}' of method '{_method.WireName}' could not be read: {e.Message}");
        }

        if (value is null && (parameter.Flags & RpcParameterFlags.NotNull) != 0)
        {
            throw new RpcBadRequestException($"Argument '{parameter.Name}' of method '{_method.WireName}' must not be null.");
        }

        return value!;
    }

    /// <summary>
    /// Whether the body is the first (string) argument's text itself rather than JSON, for a method that takes a single
    /// value: always with <c>content_type</c> <c>text/plain</c>; without a content type, when the body is not what JSON
    /// would carry there (a JSON string, <c>null</c>, or the named form), so every body read as JSON before still is and
    /// a tutorial's <c>Hello World...</c> is the text. <c>application/json</c> is always JSON.
    /// </summary>
    private readonly bool IsText()
    {
        if (!_method.TakesSingleValue) return false;
        if (string.IsNullOrEmpty(_contentType)) return !IsJsonForString(_body.Span);
        var semicolon = _contentType.IndexOf(';');
        var mediaType = (semicolon < 0 ? _contentType.AsSpan() : _contentType.AsSpan(0, semicolon)).Trim();
        return mediaType.Equals(PlainTextContentType, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A body that is a JSON string, <c>null</c>, the named form, or empty (a missing argument), as JSON would send a string argument.</summary>
    private readonly bool IsJsonForString(ReadOnlySpan<byte> span)
    {
        if (span.Trim(" \t\r\n"u8).IsEmpty) return true;
        try
        {
            var reader = new Utf8JsonReader(span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read()) return false;
            if (reader.TokenType == JsonTokenType.StartObject) return IsNamedArguments(span);
            if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null)) return false;
            // One value and nothing after it: "a" b is text.
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private readonly string ReadText()
    {
        try
        {
            return s_strictUtf8.GetString(_body.Span);
        }
        catch (ArgumentException e)
        {
            // DecoderFallbackException is an ArgumentException.
            throw new RpcBadRequestException(
                $"Argument '{_method.Parameters[0].Name}' of method '{_method.WireName}' is sent as text, but the body is not valid UTF-8: {e.Message}");
        }
    }

    /// <summary>Where each argument's JSON is in the body; a zero length means the request leaves it out.</summary>
    private (int Start, int Length)[] LocateArguments()
    {
        var found = new (int Start, int Length)[_method.Parameters.Count];
        var span = _body.Span;
        if (span.Trim(" \t\r\n"u8).IsEmpty) return found;

        if (_method.TakesSingleValue && !IsNamedArguments(span))
        {
            found[0] = (0, span.Length);
            return found;
        }

        ParseObject(found);
        return found;
    }

    /// <summary>
    /// For a method that takes a single value: whether the body is the object of named arguments rather than the first
    /// argument's value. It is when it is a JSON object with a property named like the first parameter, which the named
    /// form carries whenever the first parameter is required (and RpcGen clients always send it). When the first
    /// parameter is optional and the method has others, an object whose properties all name parameters (<c>{}</c>
    /// too) is also the named form, as it was before bare values were accepted for such methods. A first argument that
    /// is itself an object with such properties must be sent in the named form; docs/wire-format.md says so.
    /// </summary>
    private readonly bool IsNamedArguments(ReadOnlySpan<byte> span)
    {
        var parameters = _method.Parameters;
        // Only the first parameter's name can make it the named form (not "every property names a parameter"), and the
        // body holds neither that name as written nor an escape that could spell it: it is the bare value, known without
        // reading the body twice (a 1 KB object's tokens cost about as much as deserializing it; docs/performance.md).
        if ((parameters.Count == 1 || (parameters[0].Flags & RpcParameterFlags.Optional) == 0)
            && span.IndexOf(_method.FirstParameterQuoted) < 0 && span.IndexOf((byte)'\\') < 0)
        {
            return false;
        }

        bool allNameParameters = true;
        try
        {
            var reader = new Utf8JsonReader(span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(parameters[0].Name)) return true;
                if (allNameParameters && !NamesParameter(ref reader)) allNameParameters = false;
                reader.Read();
                reader.Skip();
            }

            if (reader.TokenType != JsonTokenType.EndObject) return false;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not JSON up to the first parameter's name: read as the value, whose error names the parameter.
            return false;
        }

        return allNameParameters && parameters.Count > 1 && (parameters[0].Flags & RpcParameterFlags.Optional) != 0;
    }

    private readonly bool NamesParameter(ref Utf8JsonReader reader)
    {
        for (int i = 1; i < _method.Parameters.Count; i++)
        {
            if (reader.ValueTextEquals(_method.Parameters[i].Name)) return true;
        }

        return false;
    }

    private readonly void ParseObject((int Start, int Length)[] found)
    {
        var parameters = _method.Parameters;
        var span = _body.Span;
        try
        {
            var reader = new Utf8JsonReader(span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new RpcBadRequestException(
                    $"Method '{_method.WireName}' takes {parameters.Count} arguments: the body must be a JSON object with properties {Names()}.");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                int index = -1;
                for (int i = 0; i < parameters.Count; i++)
                {
                    if (reader.ValueTextEquals(parameters[i].Name)) { index = i; break; }
                }

                if (index < 0)
                {
                    // Most often a caller built against a newer contract that passed a new argument: refused, never
                    // dropped, since the caller asked for something this server cannot do.
                    throw new RpcBadRequestException(
                        $"Method '{_method.WireName}' of service '{_method.Service.Name}' has no parameter '{NameOf(ref reader)}' (its parameters: {Names()}); " +
                        "the caller's contract may be newer than this server's: update the server, or leave the argument at its default.");
                }

                if (found[index].Length != 0)
                {
                    throw new RpcBadRequestException($"Argument '{parameters[index].Name}' of method '{_method.WireName}' appears twice.");
                }

                reader.Read();
                int start = (int)reader.TokenStartIndex;
                reader.Skip();
                found[index] = (start, (int)reader.BytesConsumed - start);
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                throw new RpcBadRequestException($"The body of method '{_method.WireName}' is not a single JSON object.");
            }
        }
        catch (JsonException e)
        {
            throw new RpcBadRequestException($"The body of method '{_method.WireName}' is not valid JSON: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader checks the UTF-8 and escapes inside a string only when it is read as text.
            throw new RpcBadRequestException($"The body of method '{_method.WireName}' is not valid JSON text: {e.Message}");
        }
    }

    private const int MaxQuotedName = 100;

    /// <summary>
    /// A property name for an error message: the caller's bytes, which need not be UTF-8 or short, so undecodable
    /// bytes become U+FFFD and a long name is cut.
    /// </summary>
    private static string NameOf(ref Utf8JsonReader reader)
    {
        string name;
        try
        {
            name = reader.GetString() ?? string.Empty;
        }
        catch (InvalidOperationException)
        {
            var raw = reader.ValueSpan;
            name = System.Text.Encoding.UTF8.GetString(raw.Length > MaxQuotedName * 4 ? raw[..(MaxQuotedName * 4)] : raw);
        }

        return name.Length > MaxQuotedName ? name[..MaxQuotedName] + "…" : name;
    }

    private readonly string Names()
    {
        var names = new string[_method.Parameters.Count];
        for (int i = 0; i < names.Length; i++) names[i] = "'" + _method.Parameters[i].Name + "'";
        return string.Join(", ", names);
    }
}

/// <summary>The request cannot be read; the server answers with <see cref="WireContract.ErrorTypes.BadRequest"/> and acks it.</summary>
internal sealed class RpcBadRequestException : Exception
{
    public RpcBadRequestException(string message) : base(message)
    {
    }
}
