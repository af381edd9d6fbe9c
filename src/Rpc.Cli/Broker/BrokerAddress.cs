using System;

namespace RpcGen.Cli.Broker;

/// <summary>
/// Where rpcgen connects: --amqp, else RPCGEN_AMQP, else RpcGen's default; --user USER[:PASSWORD] replaces the URI's
/// credentials (the password stays the URI's when left out). Only <see cref="Display"/> is ever printed: it has no
/// password.
/// </summary>
internal sealed class BrokerAddress
{
    public const string EnvironmentVariable = "RPCGEN_AMQP";

    private BrokerAddress(Uri uri, string user, string password, string prefix)
    {
        Uri = uri;
        Prefix = prefix;
        User = user;
        Password = password;
    }

    /// <summary>The URI to connect with, credentials included: never print it.</summary>
    public Uri Uri { get; }

    public string User { get; }

    /// <summary>RpcConnectionOptions.QueuePrefix: in front of every queue and exchange name the services use.</summary>
    public string Prefix { get; }

    private string Password { get; }

    /// <summary>The address without credentials, and the user: what messages show.</summary>
    public string Display => $"{Uri.Scheme}://{Uri.Host}:{Uri.Port}{Uri.AbsolutePath} (user {User})";

    public static BrokerAddress Resolve(string? amqp, string? user, string prefix)
    {
        var text = amqp ?? Environment.GetEnvironmentVariable(EnvironmentVariable);
        Uri uri;
        if (string.IsNullOrWhiteSpace(text))
        {
            uri = RpcConnectionOptions.DefaultUri;
        }
        else if (!Uri.TryCreate(text, UriKind.Absolute, out uri!) || (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
        {
            throw new CliException(ExitCodes.Usage, "the broker address is not an amqp:// or amqps:// URI (from " +
                (amqp is null ? EnvironmentVariable : "--amqp") + ").");
        }

        var (uriUser, uriPassword) = Credentials(uri);
        string name = uriUser, password = uriPassword;
        if (!string.IsNullOrEmpty(user))
        {
            int colon = user.IndexOf(':');
            name = colon < 0 ? user : user[..colon];
            if (colon >= 0) password = user[(colon + 1)..];
        }

        var builder = new UriBuilder(uri) { UserName = Uri.EscapeDataString(name), Password = Uri.EscapeDataString(password) };
        return new BrokerAddress(builder.Uri, name, password, prefix);
    }

    /// <summary><paramref name="text"/> with the password cut out, for messages that came from elsewhere.</summary>
    public string Scrub(string text) => Password.Length == 0 ? text : text.Replace(Password, "***", StringComparison.Ordinal);

    /// <summary>The management API's credentials, as a Basic authorization value.</summary>
    public string BasicAuthorization() => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(User + ":" + Password));

    private static (string User, string Password) Credentials(Uri uri)
    {
        if (string.IsNullOrEmpty(uri.UserInfo)) return ("guest", "guest");
        int colon = uri.UserInfo.IndexOf(':');
        return colon < 0
            ? (Uri.UnescapeDataString(uri.UserInfo), string.Empty)
            : (Uri.UnescapeDataString(uri.UserInfo[..colon]), Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]));
    }
}
