using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace RpcGen.Cli.Broker;

/// <summary>A queue's figures from the management API: depth, consumers and message rates per second.</summary>
internal sealed record QueueFigures(string Name, long Messages, long Unacked, int Consumers, double InPerSecond, double OutPerSecond, double AckPerSecond);

/// <summary>An exchange's publish rates per second from the management API.</summary>
internal sealed record ExchangeFigures(string Name, double InPerSecond, double OutPerSecond);

/// <summary>
/// The RabbitMQ management plugin's HTTP API, read with the AMQP URI's credentials. Its address: --management, else
/// RPCGEN_MANAGEMENT, else the broker's host on the AMQP port + 10000 (15672 for 5672: what eng/broker.sh configures).
/// </summary>
internal sealed class ManagementApi : IDisposable
{
    public const string EnvironmentVariable = "RPCGEN_MANAGEMENT";

    // The broker samples its counters every second (eng/broker.sh); a rate over one sample jumps between 0 and twice the
    // truth as samples land, so the API is asked for the average over the last 5 s (avg_rate).
    private const string RateWindow = "?msg_rates_age=5&msg_rates_incr=1";

    private readonly HttpClient _http;
    private readonly string _vhost;

    public ManagementApi(BrokerAddress address, string? url)
    {
        var baseUrl = url ?? Environment.GetEnvironmentVariable(EnvironmentVariable) ?? $"http://{address.Uri.Host}:{address.Uri.Port + 10000}/";
        if (!Uri.TryCreate(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/", UriKind.Absolute, out var root))
        {
            throw new CliException(ExitCodes.Usage, $"the management API address '{baseUrl}' is not a URL.");
        }

        Root = root;
        _http = new HttpClient { BaseAddress = root, Timeout = TimeSpan.FromSeconds(5) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", address.BasicAuthorization());
        var path = address.Uri.AbsolutePath.Trim('/');
        _vhost = Uri.EscapeDataString(path.Length == 0 ? "/" : Uri.UnescapeDataString(path));
    }

    public Uri Root { get; }

    public async Task<Dictionary<string, QueueFigures>> QueuesAsync(CancellationToken cancellationToken)
    {
        using var document = await GetAsync("api/queues/" + _vhost + RateWindow, cancellationToken);
        var queues = new Dictionary<string, QueueFigures>(StringComparer.Ordinal);
        foreach (var queue in document.RootElement.EnumerateArray())
        {
            var name = queue.GetProperty("name").GetString()!;
            var stats = queue.TryGetProperty("message_stats", out var s) ? s : default;
            queues[name] = new QueueFigures(name, Long(queue, "messages"), Long(queue, "messages_unacknowledged"), (int)Long(queue, "consumers"),
                Rate(stats, "publish_details"), Rate(stats, "deliver_get_details"), Rate(stats, "ack_details"));
        }

        return queues;
    }

    public async Task<Dictionary<string, ExchangeFigures>> ExchangesAsync(CancellationToken cancellationToken)
    {
        using var document = await GetAsync("api/exchanges/" + _vhost + RateWindow, cancellationToken);
        var exchanges = new Dictionary<string, ExchangeFigures>(StringComparer.Ordinal);
        foreach (var exchange in document.RootElement.EnumerateArray())
        {
            var name = exchange.GetProperty("name").GetString()!;
            var stats = exchange.TryGetProperty("message_stats", out var s) ? s : default;
            exchanges[name] = new ExchangeFigures(name, Rate(stats, "publish_in_details"), Rate(stats, "publish_out_details"));
        }

        return exchanges;
    }

    private async Task<JsonDocument> GetAsync(string path, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(path, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.Unavailable,
                $"cannot reach the management API at {Root} ({e.Message}). Is the rabbitmq_management plugin on? ./build.sh broker start enables it; --management or ${EnvironmentVariable} give another address.");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unavailable, $"the management API at {Root} did not answer within 5 s.");
        }

        using (response)
        {
            if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                throw new CliException(ExitCodes.Unavailable, $"the management API at {Root} refused the user's credentials (it needs a user tagged management or monitoring).");
            }

            if (!response.IsSuccessStatusCode) throw new CliException(ExitCodes.Unavailable, $"the management API at {Root} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return JsonDocument.Parse(bytes);
        }
    }

    private static long Long(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;

    private static double Rate(JsonElement stats, string name)
    {
        if (stats.ValueKind != JsonValueKind.Object || !stats.TryGetProperty(name, out var details)) return 0;
        if (details.TryGetProperty("avg_rate", out var average) && average.ValueKind == JsonValueKind.Number) return average.GetDouble();
        return details.TryGetProperty("rate", out var rate) && rate.ValueKind == JsonValueKind.Number ? rate.GetDouble() : 0;
    }

    public void Dispose() => _http.Dispose();
}
