using System;
using System.IO;
using System.Text.Json;
using System.Text.Json.Nodes;
using RpcGen;

namespace Samples.Shop;

/// <summary>Writes the shop's contracts as the AsyncAPI documents rpcgen reads (docs/cli.md); needs no broker.</summary>
public static class AsyncApiFiles
{
    /// <summary>One document per contract into <paramref name="directory"/>; prints each path and returns 0.</summary>
    public static int Write(string directory)
    {
        Directory.CreateDirectory(directory);
        Save(directory, "Stock", RpcAsyncApi.CreateDocument<IStock>());
        Save(directory, "Payments", RpcAsyncApi.CreateDocument<IPayments>());
        Save(directory, "OrderEvents", RpcAsyncApi.CreateEventsDocument<IOrderEvents>());
        return 0;
    }

    private static void Save(string directory, string name, JsonObject document)
    {
        var path = Path.Combine(directory, name + ".asyncapi.json");
        File.WriteAllText(path, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine(path);
    }
}
