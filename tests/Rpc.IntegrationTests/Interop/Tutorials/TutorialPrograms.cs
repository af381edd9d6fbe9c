using System.Diagnostics;

namespace RpcGen.IntegrationTests.Interop.Tutorials;

/// <summary>
/// How each language's peer is started: Python and JavaScript from their source, Go and Java compiled once per test run
/// into the test output folder. What they need is installed by install-peers.sh (./build.sh test runs it).
/// </summary>
internal static class TutorialPrograms
{
    private const string JavaClient = "/usr/share/java/amqp-client.jar";
    private static readonly string[] s_javaClassPath = [JavaClient, "/usr/share/java/slf4j-api.jar", "/usr/share/java/slf4j-nop.jar"];

    private static readonly string s_built = Path.Combine(AppContext.BaseDirectory, "tutorial-peers");
    private static readonly Lazy<string> s_go = new(BuildGo);
    private static readonly Lazy<string> s_java = new(BuildJava);

    /// <summary>This source folder, where the peers and README.md are.</summary>
    public static string Folder { get; } = Path.Combine(PythonScript.Folder, "Tutorials");

    public static (string Program, string[] Leading) CommandFor(TutorialLanguage language) => language switch
    {
        TutorialLanguage.Python => (PythonScript.Interpreter, [Path.Combine(Folder, "python", "tutorial.py")]),
        TutorialLanguage.Go => (s_go.Value, []),
        TutorialLanguage.Java => ("java", ["-cp", string.Join(':', s_javaClassPath.Prepend(s_java.Value)), "Tutorial"]),
        TutorialLanguage.JavaScript => ("node", [Path.Combine(Folder, "node", "tutorial.js")]),
        _ => throw new ArgumentOutOfRangeException(nameof(language), language, "runs in this process"),
    };

    private static string BuildGo()
    {
        var output = Path.Combine(s_built, "go");
        Directory.CreateDirectory(output);
        var binary = Path.Combine(output, "tutorial");
        // Debian's golang-github-rabbitmq-amqp091-go-dev is a GOPATH package: no module, no download.
        Run("go", ["build", "-o", binary, Path.Combine(Folder, "go", "tutorial.go")], new()
        {
            ["GO111MODULE"] = "off",
            ["GOPATH"] = "/usr/share/gocode",
            ["GOCACHE"] = Path.Combine(output, "cache"),
            ["GOFLAGS"] = "",
        }, "golang-go and golang-github-rabbitmq-amqp091-go-dev");
        return binary;
    }

    private static string BuildJava()
    {
        var output = Path.Combine(s_built, "java");
        Directory.CreateDirectory(output);
        Run("javac", ["-d", output, "-cp", JavaClient, Path.Combine(Folder, "java", "Tutorial.java")], new(), "a JDK and librabbitmq-client-java");
        return output;
    }

    private static void Run(string program, string[] arguments, Dictionary<string, string> environment, string packages)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"'{program}' is missing: the tutorial peers need {packages} (Interop/Tutorials/install-peers.sh installs them).", e);
        }

        using (process)
        {
            var errors = process.StandardError.ReadToEndAsync();
            var printed = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{program} {string.Join(' ', arguments)} took longer than 3 minutes.");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}); it needs {packages} (install-peers.sh):\n{printed}{errors.Result}");
            }
        }
    }
}
