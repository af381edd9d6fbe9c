using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace RpcGen.IntegrationTests.Interop;

/// <summary>docs/wire-format.md stays true to what is tested: its Python examples and its list of error types.</summary>
public sealed class WireFormatDocumentTests
{
    private static readonly string Root = Path.GetFullPath(Path.Combine(PythonScript.Folder, "..", "..", ".."));
    private static readonly string Document = File.ReadAllText(Path.Combine(Root, "docs", "wire-format.md")).ReplaceLineEndings("\n");

    [Fact]
    public void The_Python_examples_in_the_document_are_the_scripts_the_interop_tests_run()
    {
        var examples = Regex.Matches(Document, @"<!-- script: (?<path>[^ ]+) -->\n```python\n(?<code>.*?)```", RegexOptions.Singleline);
        var scripts = Directory.GetFiles(PythonScript.Folder, "*.py").Select(Path.GetFileName).Order().ToArray();

        Assert.Equal(scripts, examples.Select(m => Path.GetFileName(m.Groups["path"].Value)).Order().ToArray());
        foreach (Match example in examples)
        {
            var path = example.Groups["path"].Value;
            var script = File.ReadAllText(Path.Combine(Root, path)).ReplaceLineEndings("\n");
            Assert.True(script == example.Groups["code"].Value,
                $"The copy of {path} in docs/wire-format.md differs from the script; paste the script into the document again.");
        }
    }

    [Fact]
    public void Every_error_type_the_runtime_produces_is_documented()
    {
        var errorTypes = typeof(RpcGen.Wire.WireContract.ErrorTypes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToArray();

        Assert.NotEmpty(errorTypes);
        foreach (var type in errorTypes) Assert.Contains($"| `{type}` |", Document);
    }
}
