using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;

namespace RpcGen.Generator.Tests.Infrastructure;

/// <summary>
/// Compares generated files with the expected files checked in under Snapshots/{family}/. Set RPCGEN_UPDATE_SNAPSHOTS=1
/// to rewrite them (and delete the ones no longer generated) instead; review the change with git diff before committing.
/// Updating never passes silently: a test that rewrote a file fails and names it, and with CI=true the variable is
/// refused outright, so CI always compares.
/// </summary>
public static partial class Snapshot
{
    public const string UpdateVariable = "RPCGEN_UPDATE_SNAPSHOTS";

    /// <summary>Expected files end in .txt so that the compiler never picks them up as sources.</summary>
    public const string Extension = ".verified.cs.txt";

    public static bool Updating
    {
        get
        {
            if (Environment.GetEnvironmentVariable(UpdateVariable) is not { Length: > 0 } value) return false;
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                throw new Xunit.Sdk.XunitException($"{UpdateVariable} is set in CI (CI=true): snapshots are compared in CI, never rewritten. Unset it.");
            }

            return value == "1";
        }
    }

    /// <summary>The snapshots of a family as the generator would add them, with the version the build stamps.</summary>
    public static IReadOnlyList<(string HintName, string Text)> Load(string family, [CallerFilePath] string callerPath = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots", family);
        return Directory.GetFiles(directory, "*" + Extension)
            .OrderBy(path => path, StringComparer.Ordinal)
            .Select(path => (Path.GetFileName(path)[..^Extension.Length] + ".cs",
                File.ReadAllText(path).Replace("\r\n", "\n").Replace("""GeneratedCode("RpcGen.Generator", "{version}")""",
                    "GeneratedCode(\"RpcGen.Generator\", \"" + Emitting.ServiceEmitter.GeneratorVersion + "\")")))
            .ToList();
    }

    [GeneratedRegex("""GeneratedCode\("RpcGen\.Generator", "[^"]*"\)""")]
    private static partial Regex GeneratedCodeVersion();

    /// <summary>The generated text as stored: LF line ends, and the generator version replaced so a version bump changes no snapshot.</summary>
    public static string Normalize(string generated) =>
        GeneratedCodeVersion().Replace(generated.Replace("\r\n", "\n"), """GeneratedCode("RpcGen.Generator", "{version}")""");

    public static string FileNameFor(string hintName) =>
        (hintName.EndsWith(".cs", StringComparison.Ordinal) ? hintName[..^3] : hintName) + Extension;

    public static void Verify(string family, IEnumerable<(string HintName, string Text)> generated, [CallerFilePath] string callerPath = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots", family);
        var actual = generated.ToDictionary(g => FileNameFor(g.HintName), g => Normalize(g.Text), StringComparer.Ordinal);
        if (actual.Count == 0) throw new Xunit.Sdk.XunitException($"Snapshot family '{family}': the generator produced no file.");

        var existing = Directory.Exists(directory)
            ? Directory.GetFiles(directory, "*" + Extension).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal)!
            : new HashSet<string?>(StringComparer.Ordinal);

        if (Updating)
        {
            Directory.CreateDirectory(directory);
            var rewritten = new List<string>();
            foreach (var stale in existing.Where(name => !actual.ContainsKey(name!)))
            {
                File.Delete(Path.Combine(directory, stale!));
                rewritten.Add("deleted " + stale);
            }

            foreach (var (name, text) in actual)
            {
                var path = Path.Combine(directory, name);
                if (File.Exists(path) && File.ReadAllText(path).Replace("\r\n", "\n") == text) continue;
                File.WriteAllText(path, text);
                rewritten.Add("wrote " + name);
            }

            if (rewritten.Count > 0)
            {
                throw new Xunit.Sdk.XunitException(
                    $"{UpdateVariable}=1 rewrote snapshots of {family} ({string.Join(", ", rewritten)}): review them with git diff, then rerun without the variable.");
            }

            return;
        }

        var failures = new StringBuilder();
        foreach (var (name, text) in actual.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                failures.AppendLine($"New generated file {family}/{name} has no snapshot.");
                continue;
            }

            var expected = File.ReadAllText(path).Replace("\r\n", "\n");
            if (expected != text)
            {
                failures.AppendLine($"{family}/{name} differs from its snapshot (- snapshot, + generated):");
                failures.Append(LineDiff.Format(expected, text));
            }
        }

        foreach (var stale in existing.Where(name => !actual.ContainsKey(name!)).OrderBy(n => n, StringComparer.Ordinal))
        {
            failures.AppendLine($"Snapshot {family}/{stale} is no longer generated.");
        }

        if (failures.Length > 0)
        {
            failures.AppendLine($"If the new output is right, rerun with {UpdateVariable}=1 to rewrite the snapshots, and review them with git diff.");
            throw new Xunit.Sdk.XunitException(failures.ToString());
        }
    }
}

/// <summary>A line diff (longest common subsequence) printed as hunks with three lines of context.</summary>
public static class LineDiff
{
    private const int Context = 3;

    public static string Format(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');

        // lcs[i, j] = length of the longest common subsequence of a[i..] and b[j..].
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
        {
            for (int j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var lines = new List<(char Kind, int Line, string Text)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y]) { lines.Add((' ', y + 1, b[y])); x++; y++; }
            else if (x < a.Length && (y == b.Length || lcs[x + 1, y] >= lcs[x, y + 1])) { lines.Add(('-', x + 1, a[x])); x++; }
            else { lines.Add(('+', y + 1, b[y])); y++; }
        }

        var output = new StringBuilder();
        int lastPrinted = -1;
        for (int k = 0; k < lines.Count; k++)
        {
            bool near = false;
            for (int d = Math.Max(0, k - Context); d <= Math.Min(lines.Count - 1, k + Context) && !near; d++) near = lines[d].Kind != ' ';
            if (!near) continue;
            if (lastPrinted >= 0 && k > lastPrinted + 1) output.AppendLine("    ...");
            output.AppendLine($"{lines[k].Line,5} {lines[k].Kind} {lines[k].Text}");
            lastPrinted = k;
        }

        return output.ToString();
    }
}
