namespace RpcGen.Ecosystem.Tests.Infrastructure;

/// <summary>
/// A sample of src/ published for linux-x64 (<c>dotnet publish -c Release -r linux-x64</c>, as a user would), into a
/// fresh folder under artifacts/ that <see cref="Dispose"/> deletes. The publish has its own artifacts path, so the
/// RID-specific restore and build never touch the working tree's obj folders.
/// </summary>
public sealed class PublishedSample : IDisposable
{
    private PublishedSample(string folder)
    {
        Folder = folder;
        OutputFolder = Path.Combine(folder, "out");
    }

    /// <summary>The fresh folder; the published sample runs with it as its working directory.</summary>
    public string Folder { get; }

    /// <summary>Where <c>dotnet publish -o</c> put the published files.</summary>
    public string OutputFolder { get; }

    public int ExitCode { get; private set; }

    /// <summary>The publish's combined output, for its warnings and the steps it ran.</summary>
    public string Log { get; private set; } = "";

    /// <summary>Publishes src/<paramref name="sample"/>; the folder's name starts with <paramref name="folderName"/>.</summary>
    public static async Task<PublishedSample> PublishAsync(string sample, string folderName, TimeSpan limit)
    {
        var published = new PublishedSample(Repo.NewArtifactsFolder(folderName));
        try
        {
            var project = Path.Combine(Repo.Root, "src", sample, sample + ".csproj");
            (published.ExitCode, published.Log) = await Repo.DotNetAsync(
                $"publish \"{project}\" -c Release -r linux-x64 --artifacts-path \"{Path.Combine(published.Folder, "artifacts")}\" -o \"{published.OutputFolder}\" -nologo",
                Repo.Root, limit);
            return published;
        }
        catch
        {
            published.Dispose();
            throw;
        }
    }

    /// <summary>Runs the published <paramref name="executable"/> against the real broker under <paramref name="broker"/>'s queue prefix.</summary>
    public Task<(int ExitCode, string Output)> RunAsync(string executable, TestBroker broker) =>
        Repo.RunAsync(Path.Combine(OutputFolder, executable), "", Folder, TimeSpan.FromMinutes(1), new Dictionary<string, string>
        {
            ["RpcGen__Uri"] = TestBroker.Uri.ToString(),
            ["RpcGen__QueuePrefix"] = broker.Prefix,
        });

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
