using System.IO.Compression;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;
using RpcGen.Ecosystem.Tests.Infrastructure;

namespace RpcGen.Ecosystem.Tests;

/// <summary>
/// Packs RpcGen from source once (as ./build.sh pack does, into a folder of its own, with a version of its own so no
/// cached copy can stand in for it) for the tests of this class, and deletes it afterwards.
/// </summary>
public sealed class PackedPackage : IAsyncLifetime
{
    public string Folder { get; } = Repo.NewArtifactsFolder("pack");
    public string Version { get; } = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss") + "." + Guid.NewGuid().ToString("N")[..6];
    public string Feed => Path.Combine(Folder, "feed");
    public string PackagePath => Path.Combine(Feed, $"RpcGen.{Version}.nupkg");
    public string SymbolsPath => Path.Combine(Feed, $"RpcGen.{Version}.snupkg");
    public string PackOutput { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var project = Path.Combine(Repo.Root, "src", "Rpc.Runtime", "Rpc.Runtime.csproj");
        var (exitCode, output) = await Repo.DotNetAsync(
            $"pack \"{project}\" -c Release --artifacts-path \"{Path.Combine(Folder, "artifacts")}\" -o \"{Feed}\" " +
            $"-p:PackageVersion={Version} -p:ContinuousIntegrationBuild=true -nologo",
            Repo.Root, TimeSpan.FromMinutes(8));
        PackOutput = output;
        if (exitCode != 0) throw new InvalidOperationException($"dotnet pack failed ({exitCode}):\n{output}");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class PackageTests(PackedPackage package) : IClassFixture<PackedPackage>
{
    [Fact]
    public void The_package_holds_the_runtime_for_both_targets_the_generator_in_one_analyzer_slot_and_the_readme()
    {
        using var zip = ZipFile.OpenRead(package.PackagePath);
        var files = zip.Entries.Select(e => e.FullName)
            .Where(name => !name.StartsWith("_rels/", StringComparison.Ordinal) && !name.StartsWith("package/", StringComparison.Ordinal) && name != "[Content_Types].xml")
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(new[]
        {
            "README.md",
            "RpcGen.nuspec",
            "analyzers/dotnet/cs/RpcGen.Generator.CodeFixes.dll",
            "analyzers/dotnet/cs/RpcGen.Generator.dll",
            "lib/net10.0/RpcGen.dll",
            "lib/net10.0/RpcGen.xml",
            "lib/net8.0/RpcGen.dll",
            "lib/net8.0/RpcGen.xml",
        }, files);
        Assert.DoesNotContain("warning", package.PackOutput, StringComparison.OrdinalIgnoreCase);

        // Each lib folder holds the build for that framework.
        Assert.Contains(Facts(zip, "lib/net8.0/RpcGen.dll").References, r => r.Name == "System.Runtime" && r.Version.Major == 8);
        Assert.Contains(Facts(zip, "lib/net10.0/RpcGen.dll").References, r => r.Name == "System.Runtime" && r.Version.Major == 10);
        foreach (var lib in new[] { "lib/net8.0/RpcGen.dll", "lib/net10.0/RpcGen.dll" })
        {
            var facts = Facts(zip, lib);
            Assert.Equal("True", facts.Metadata("IsTrimmable")); // set by IsAotCompatible; tells the trimmer it may trim RpcGen
            Assert.DoesNotContain(facts.References, r => r.Name.Contains("Generator", StringComparison.Ordinal));
        }

        var readme = new StreamReader(zip.GetEntry("README.md")!.Open()).ReadToEnd();
        Assert.Contains("[RpcService]", readme);
        Assert.Contains("AddRpcGen", readme);
    }

    [Fact]
    public void The_nuspec_declares_license_readme_and_per_framework_dependencies_without_the_generator()
    {
        using var zip = ZipFile.OpenRead(package.PackagePath);
        var nuspec = XDocument.Load(zip.GetEntry("RpcGen.nuspec")!.Open());
        var ns = nuspec.Root!.GetDefaultNamespace();
        var metadata = nuspec.Root.Element(ns + "metadata")!;

        Assert.Equal("RpcGen", metadata.Element(ns + "id")!.Value);
        Assert.Equal(package.Version, metadata.Element(ns + "version")!.Value);
        Assert.Equal("expression", metadata.Element(ns + "license")!.Attribute("type")!.Value);
        Assert.Equal("MIT", metadata.Element(ns + "license")!.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
        Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")?.Value));
        Assert.NotNull(metadata.Element(ns + "repository")?.Attribute("commit"));

        var groups = metadata.Element(ns + "dependencies")!.Elements(ns + "group")
            .ToDictionary(g => g.Attribute("targetFramework")!.Value,
                g => g.Elements(ns + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value));
        Assert.Equal(new[] { "net10.0", "net8.0" }, groups.Keys.Order(StringComparer.Ordinal));
        foreach (var (framework, dependencies) in groups)
        {
            // Diagnostics.HealthChecks: AddRpcGen registers the rpcgen health check (docs/dependency-injection.md says why not the Abstractions).
            Assert.Equal(new[] { "Microsoft.Extensions.Diagnostics.HealthChecks", "Microsoft.Extensions.Hosting.Abstractions", "Microsoft.Extensions.Logging.Abstractions", "Microsoft.Extensions.Options", "RabbitMQ.Client" },
                dependencies.Keys.Order(StringComparer.Ordinal));
            // A net8.0 app is not pulled onto Microsoft.Extensions 10 by RpcGen.
            var major = framework == "net8.0" ? "8." : "10.";
            Assert.All(dependencies.Where(d => d.Key.StartsWith("Microsoft.Extensions", StringComparison.Ordinal)), d => Assert.StartsWith(major, d.Value));
        }
    }

    [Fact]
    public void The_generator_references_only_what_the_compiler_host_supplies_at_the_Roslyn_of_the_dotnet_8_SDK()
    {
        using var zip = ZipFile.OpenRead(package.PackagePath);
        var generator = Facts(zip, "analyzers/dotnet/cs/RpcGen.Generator.dll");

        Assert.Equal("RpcGen.Generator", generator.Name);
        Assert.All(generator.References, reference => Assert.True(
            reference.Name is "netstandard" or "Microsoft.CodeAnalysis" or "Microsoft.CodeAnalysis.CSharp" || reference.Name.StartsWith("System.", StringComparison.Ordinal),
            $"The generator references {reference.Name} {reference.Version}, which the compiler does not load for analyzers."));
        Assert.Contains(generator.References, r => r.Name == "netstandard" && r.Version == new Version(2, 0, 0, 0));
        // The .NET 8 SDK ships Roslyn 4.8: a generator built against a newer Roslyn would not load there.
        var roslyn = generator.References.Single(r => r.Name == "Microsoft.CodeAnalysis").Version;
        Assert.True(roslyn <= new Version(4, 8, 0, 0), $"The generator is built against Roslyn {roslyn}; the floor is 4.8 (the .NET 8 SDK).");

        // The code fixes need the workspace layer, which only IDEs load; they stay on the same Roslyn floor.
        var fixes = Facts(zip, "analyzers/dotnet/cs/RpcGen.Generator.CodeFixes.dll");
        Assert.Contains(fixes.References, r => r.Name == "Microsoft.CodeAnalysis.Workspaces");
        Assert.All(fixes.References.Where(r => r.Name.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal)),
            r => Assert.True(r.Version <= new Version(4, 8, 0, 0), $"The code fixes are built against {r.Name} {r.Version}; the floor is 4.8."));
    }

    [Fact]
    public void Symbols_are_published_and_the_build_is_deterministic_with_machine_independent_paths()
    {
        using var zip = ZipFile.OpenRead(package.PackagePath);
        using var symbols = ZipFile.OpenRead(package.SymbolsPath);
        foreach (var framework in new[] { "net8.0", "net10.0" })
        {
            var assembly = Facts(zip, $"lib/{framework}/RpcGen.dll");
            var pdb = PdbFacts.Read(Read(symbols, $"lib/{framework}/RpcGen.pdb"));

            Assert.Equal(assembly.PdbId, pdb.Id); // the symbols match the shipped binary
            Assert.Contains(DebugDirectoryEntryType.Reproducible, assembly.DebugEntries);
            Assert.Contains(DebugDirectoryEntryType.PdbChecksum, assembly.DebugEntries);
            Assert.Contains(pdb.Documents, d => d.EndsWith("RpcConnection.cs", StringComparison.Ordinal));
            Assert.All(pdb.Documents, d => Assert.StartsWith("/_/", d)); // no path of the machine that built it
        }
    }

    [Fact]
    public async Task A_fresh_project_referencing_only_RpcGen_builds_warning_free_for_net8_and_net10_and_calls_over_the_broker()
    {
        var consumer = Repo.NewTempFolder("consumer");
        await using var broker = new TestBroker();
        try
        {
            WriteConsumer(consumer);
            var build = await Repo.DotNetAsync("build -c Release -warnaserror -nologo", consumer, TimeSpan.FromMinutes(8));
            Assert.True(build.ExitCode == 0, "The consumer did not build:\n" + build.Output);
            // The generator ran in the consumer's compilation: its client and dispatcher exist in both builds.
            Assert.Contains("0 Warning(s)", build.Output);

            broker.Queue("Greeter");
            var run = await Repo.DotNetAsync($"bin/Release/net10.0/Consumer.dll \"{TestBroker.Uri}\" {broker.Prefix}", consumer, TimeSpan.FromMinutes(1));
            Assert.True(run.ExitCode == 0, "The consumer failed:\n" + run.Output);
            Assert.Contains("Hello, consumer! (served over RabbitMQ)", run.Output);
            Assert.Contains("generated: GreeterClient, GreeterDispatcher", run.Output);
            Assert.True(File.Exists(Path.Combine(consumer, "bin", "Release", "net8.0", "Consumer.dll")));
            Assert.True(Directory.Exists(Path.Combine(consumer, "packages", "rpcgen", package.Version)), "RpcGen was not restored from the local feed.");
        }
        finally
        {
            Directory.Delete(consumer, recursive: true);
        }
    }

    private void WriteConsumer(string folder)
    {
        var machineCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        // The local feed first, then the usual public source; packages restore into the consumer's own folder, so the
        // RpcGen it uses is the one just packed (the machine cache only spares downloading the other dependencies).
        File.WriteAllText(Path.Combine(folder, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="packages" />
              </config>
              <packageSources>
                <clear />
                <add key="local" value="{package.Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="machine" value="{machineCache}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(folder, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFrameworks>net8.0;net10.0</TargetFrameworks>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <AnalysisLevel>latest</AnalysisLevel>
                <!-- Only net10.0 runs here; the net8.0 build proves the package compiles for it. -->
                <UseAppHost>false</UseAppHost>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="RpcGen" Version="{package.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            using RpcGen;

            await using var connection = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = new Uri(args[0]), QueuePrefix = args[1] });
            await using var server = await connection.ServeAsync<IGreeter>(new Greeter());
            IGreeter greeter = connection.CreateClient<IGreeter>();
            Console.WriteLine(await greeter.GreetAsync("consumer"));
            Console.WriteLine($"generated: {nameof(GreeterClient)}, {nameof(GreeterDispatcher)}");

            [RpcService]
            public interface IGreeter
            {
                Task<string> GreetAsync(string name, CancellationToken cancellationToken = default);
            }

            public sealed class Greeter : IGreeter
            {
                public Task<string> GreetAsync(string name, CancellationToken cancellationToken = default) =>
                    Task.FromResult($"Hello, {name}! (served over RabbitMQ)");
            }
            """);
    }

    private static AssemblyFacts Facts(ZipArchive zip, string path) => AssemblyFacts.Read(Read(zip, path));

    private static byte[] Read(ZipArchive zip, string path)
    {
        var entry = zip.GetEntry(path) ?? throw new InvalidOperationException($"The package has no {path}.");
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
