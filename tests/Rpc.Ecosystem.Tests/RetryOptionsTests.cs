using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace RpcGen.Ecosystem.Tests;

/// <summary>RpcOptions.RetryBackoff, MaxRetryBackoff and RetryBackoffs from configuration, and their checks.</summary>
public sealed class RetryOptionsTests
{
    [Fact]
    public void The_retry_backoffs_bind_from_the_RpcGen_section()
    {
        var options = Bind(new()
        {
            ["RpcGen:RetryBackoff"] = "00:00:02",
            ["RpcGen:MaxRetryBackoff"] = "00:01:00",
            ["RpcGen:RetryBackoffs:Orders"] = "00:00:10",
        });

        Assert.Equal(TimeSpan.FromSeconds(2), options.RetryBackoff);
        Assert.Equal(TimeSpan.FromMinutes(1), options.MaxRetryBackoff);
        Assert.Equal(TimeSpan.FromSeconds(10), options.RetryBackoffs["Orders"]);
    }

    [Theory]
    [InlineData("RpcGen:RetryBackoff", "soon", "'RpcGen:RetryBackoff' is 'soon'")]
    [InlineData("RpcGen:RetryBackoffs:Orders", "later", "'RpcGen:RetryBackoffs:Orders' is 'later'")]
    [InlineData("RpcGen:RetryBackoff", "-00:00:01", "RpcOptions.RetryBackoff must not be negative")]
    [InlineData("RpcGen:RetryBackoffs:Orders", "-00:00:01", "RpcOptions.RetryBackoffs[\"Orders\"] must not be negative")]
    public void A_retry_setting_mistake_fails_naming_it(string key, string value, string expected)
    {
        var error = Assert.ThrowsAny<Exception>(() => Bind(new() { [key] = value }).Validate());
        Assert.Contains(expected, error.Message);
    }

    private static RpcOptions Bind(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddRpcGen();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<RpcOptions>>().Value;
    }
}
