using System.Text.RegularExpressions;
using Xunit;

namespace RpcGen.Runtime.Tests.Docs;

/// <summary>
/// docs/architecture.md's "where to look" table names files and the symbols in them; a rename that forgets the table
/// sends a newcomer to nothing. Every path a row names must exist, and every symbol must be declared or used in a file
/// the row names or, failing that, somewhere in src/.
/// </summary>
public sealed partial class ArchitectureTableTests
{
    private static readonly string s_root = FindRoot();

    [Fact]
    public void The_table_is_found_and_every_row_names_at_least_one_file()
    {
        var rows = ReadRows();

        Assert.True(rows.Count >= 10, $"docs/architecture.md: found {rows.Count} rows under \"Where to look\"; the table moved or changed shape");
        var withoutFile = rows.Where(r => !r.Paths.Any()).Select(r => $"\"{r.Question}\"").ToArray();
        Assert.True(withoutFile.Length == 0, $"docs/architecture.md, \"Where to look\": rows naming no file: {string.Join(", ", withoutFile)}");
    }

    [Fact]
    public void Every_file_and_symbol_the_table_names_exists()
    {
        var stale = new List<string>();
        foreach (var row in ReadRows())
        {
            var files = new List<string>();
            foreach (var path in row.Paths)
            {
                var found = Resolve(path);
                if (found.Count == 0) stale.Add($"row \"{row.Question}\": no file or folder `{path}` under src/");
                files.AddRange(found.Where(File.Exists));
            }

            foreach (var symbol in row.Symbols)
            {
                foreach (var part in symbol.Split('.'))
                {
                    var word = new Regex($@"\b{Regex.Escape(part)}\b");
                    if (files.Any(f => word.IsMatch(File.ReadAllText(f)))) continue;
                    if (s_sourceFiles.Value.Any(f => word.IsMatch(File.ReadAllText(f)))) continue;
                    stale.Add($"row \"{row.Question}\": `{symbol}` appears in none of its files ({string.Join(", ", files.Select(Relative))}) nor anywhere in src/");
                }
            }
        }

        Assert.True(stale.Count == 0, "docs/architecture.md, \"Where to look\", is stale:\n" + string.Join("\n", stale));
    }

    private sealed record Row(string Question, IReadOnlyList<string> Paths, IReadOnlyList<string> Symbols);

    private static readonly Lazy<string[]> s_sourceFiles = new(() =>
        Directory.GetFiles(Path.Combine(s_root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToArray());

    /// <summary>
    /// The rows of the table after "Where to look": its first column is the question, and in the second every `code`
    /// span is a path (it has a '/' or ends in .cs) or a symbol (a PascalCase name, dotted for a member); other spans
    /// (header names, `[RpcMethod]`, `IAsyncEnumerable&lt;T&gt;`) are prose.
    /// </summary>
    private static List<Row> ReadRows()
    {
        var lines = File.ReadAllLines(Path.Combine(s_root, "docs", "architecture.md"));
        int start = Array.FindIndex(lines, l => l.StartsWith("Where to look", StringComparison.Ordinal));
        Assert.True(start >= 0, "docs/architecture.md has no \"Where to look\" paragraph");
        var rows = new List<Row>();
        foreach (var line in lines.Skip(start + 1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')))
        {
            var cells = line.Trim('|').Split('|', 2);
            if (cells.Length < 2 || cells[0].Trim() is "question" || cells[0].Trim().StartsWith("---", StringComparison.Ordinal)) continue;
            var spans = CodeSpan().Matches(cells[1]).Select(m => m.Groups[1].Value).ToArray();
            rows.Add(new Row(
                cells[0].Trim(),
                spans.Where(s => s.Contains('/') || s.EndsWith(".cs", StringComparison.Ordinal)).ToArray(),
                spans.Where(s => Symbol().IsMatch(s)).ToArray()));
        }

        return rows;
    }

    /// <summary>
    /// A path from the repository root (src/...), else from the runtime or the generator project, else a bare file name
    /// found anywhere under src/.
    /// </summary>
    private static List<string> Resolve(string path)
    {
        foreach (var candidate in new[] { path, Path.Combine("src", "Rpc.Runtime", path), Path.Combine("src", "Rpc.Generator", path) })
        {
            var full = Path.Combine(s_root, candidate);
            if (File.Exists(full)) return [full];
            if (path.EndsWith('/') && Directory.Exists(full))
            {
                return Directory.GetFiles(full, "*.cs", SearchOption.AllDirectories).ToList();
            }
        }

        return path.Contains('/') ? [] : s_sourceFiles.Value.Where(f => Path.GetFileName(f) == path).ToList();
    }

    private static string Relative(string file) => Path.GetRelativePath(s_root, file).Replace('\\', '/');

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RpcGen.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException($"RpcGen.sln not found above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*$")]
    private static partial Regex Symbol();
}
