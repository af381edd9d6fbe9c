using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RpcGen.Hosting;
using Xunit;

namespace RpcGen.Ecosystem.Tests;

/// <summary>RpcServerOptions.RetryBackoff and MaxRetryBackoff from configuration, per connection and per service, and their checks.</summary>
public sealed class RetryOptionsTests
{
    [Fact]
    public void The_retry_backoffs_bind_from_the_RpcGen_section()
    {
        var options = Bind(Configuration(new()
        {
            ["RpcGen:Server:RetryBackoff"] = "00:00:02",
            ["RpcGen:Server:MaxRetryBackoff"] = "00:01:00",
        }));

        Assert.Equal(TimeSpan.FromSeconds(2), options.Server.RetryBackoff);
        Assert.Equal(TimeSpan.FromMinutes(1), options.Server.MaxRetryBackoff);
    }

    [Fact]
    public void A_services_own_backoff_binds_from_its_Servers_section_over_the_connections()
    {
        var configuration = Configuration(new()
        {
            ["RpcGen:Server:RetryBackoff"] = "00:00:02",
            ["RpcGen:Servers:Orders:RetryBackoff"] = "00:00:10",
        });
        var settings = RpcSettings.For(Bind(configuration))
            .ForServer("Orders", server => RpcOptionsBinder.BindServer(configuration.GetSection("RpcGen"), "Orders", server));

        Assert.Equal(TimeSpan.FromSeconds(10), settings.RetryBackoff);
        Assert.Equal(TimeSpan.FromSeconds(2), RpcSettings.For(Bind(configuration)).RetryBackoff);
    }

    [Theory]
    [InlineData("RpcGen:Server:RetryBackoff", "soon", "'RpcGen:Server:RetryBackoff' is 'soon'")]
    [InlineData("RpcGen:Server:RetryBackoff", "-00:00:01", "RpcServerOptions.RetryBackoff must not be negative")]
    [InlineData("RpcGen:RetryBackoffs:Orders", "00:00:01", "'RpcGen:RetryBackoffs' is not an RpcGen option")]
    public void A_retry_setting_mistake_fails_naming_it(string key, string value, string expected)
    {
        var error = Assert.ThrowsAny<Exception>(() => RpcSettings.For(Bind(Configuration(new() { [key] = value }))));
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("RpcGen:Servers:Orders:RetryBackoff", "later", "'RpcGen:Servers:Orders:RetryBackoff' is 'later'")]
    [InlineData("RpcGen:Servers:Orders:RetryBackoff", "-00:00:01", "RpcServerOptions.RetryBackoff must not be negative (service Orders)")]
    [InlineData("RpcGen:Servers:Orders:Retry", "1", "'RpcGen:Servers:Orders:Retry' is not an RpcGen option")]
    public void A_services_retry_setting_mistake_fails_naming_it_and_the_service(string key, string value, string expected)
    {
        var configuration = Configuration(new() { [key] = value });
        var settings = RpcSettings.For(Bind(configuration));
        var error = Assert.ThrowsAny<Exception>(() =>
            settings.ForServer("Orders", server => RpcOptionsBinder.BindServer(configuration.GetSection("RpcGen"), "Orders", server)));
        Assert.Contains(expected, error.Message);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static RpcConnectionOptions Bind(IConfiguration configuration)
    {
        var services = new ServiceCollection().AddSingleton(configuration);
        services.AddRpcGen();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<RpcConnectionOptions>>().Value;
    }
}
