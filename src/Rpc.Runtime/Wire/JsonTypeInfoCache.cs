using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace RpcGen.Wire;

/// <summary>
/// The <see cref="JsonTypeInfo{T}"/> of <typeparamref name="T"/> for the options last asked about. A process almost
/// always uses one <see cref="JsonSerializerOptions"/> per type, so every call after the first skips the options'
/// own lookup; other options still get the right answer, only without the shortcut.
/// </summary>
internal static class JsonTypeInfoCache<T>
{
    private sealed class Entry(JsonSerializerOptions options, JsonTypeInfo<T> typeInfo)
    {
        public readonly JsonSerializerOptions Options = options;
        public readonly JsonTypeInfo<T> TypeInfo = typeInfo;
    }

    private static Entry? s_last;

    public static JsonTypeInfo<T> Get(JsonSerializerOptions options)
    {
        var last = s_last;
        if (last is not null && ReferenceEquals(last.Options, options)) return last.TypeInfo;
        var typeInfo = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        s_last = new Entry(options, typeInfo);
        return typeInfo;
    }
}
