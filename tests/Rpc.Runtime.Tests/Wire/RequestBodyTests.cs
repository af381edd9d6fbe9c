using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using RpcGen.Wire;
using Xunit;

namespace RpcGen.Runtime.Tests.Wire;

/// <summary>
/// The request body rules of docs/wire-format.md ("Request bodies", "Text bodies"), on the writer and reader alone:
/// the bare and named forms, the evolution rules, text bodies, and every refusal as a bad request.
/// </summary>
public sealed class RequestBodyTests
{
    private static readonly JsonTypeInfo<int> s_int = (JsonTypeInfo<int>)JsonSerializerOptions.Default.GetTypeInfo(typeof(int));
    private static readonly JsonTypeInfo<string> s_string = (JsonTypeInfo<string>)JsonSerializerOptions.Default.GetTypeInfo(typeof(string));

    private static readonly RpcMethodDescriptor s_fib = new("Fib", [new RpcParameterDescriptor("n")]);
    private static readonly RpcMethodDescriptor s_add = new("Add", [new RpcParameterDescriptor("a"), new RpcParameterDescriptor("b"),
        new RpcParameterDescriptor("c", RpcParameterFlags.Optional)]);
    private static readonly RpcMethodDescriptor s_search = new("Search", [new RpcParameterDescriptor("query", RpcParameterFlags.NotNull),
        new RpcParameterDescriptor("limit", RpcParameterFlags.Optional)]);
    private static readonly RpcMethodDescriptor s_echo = new("Echo", [new RpcParameterDescriptor("text")]);
    private static readonly RpcMethodDescriptor s_label = new("Label", [new RpcParameterDescriptor("text"), new RpcParameterDescriptor("n")]);
    private static readonly RpcMethodDescriptor s_reset = new("Reset", []);
    private static readonly RpcMethodDescriptor s_tag = new("Tag", [new RpcParameterDescriptor("tags")]);
    private static readonly JsonTypeInfo<Dictionary<string, int>> s_map =
        (JsonTypeInfo<Dictionary<string, int>>)JsonSerializerOptions.Default.GetTypeInfo(typeof(Dictionary<string, int>));

    static RequestBodyTests() => _ = new RpcServiceDescriptor("Calc", "calc", s_fib, s_add, s_search, s_echo, s_label, s_reset, s_tag);

    private static RequestBodyReader Reader(RpcMethodDescriptor method, string body, string? contentType = null) =>
        new(method, Encoding.UTF8.GetBytes(body), contentType);

    private static string Written(Action<RequestBodyWriter> write)
    {
        var writer = RequestBodyWriter.Rent();
        try
        {
            write(writer);
            return Encoding.UTF8.GetString(writer.Complete().Span);
        }
        finally
        {
            writer.Return();
        }
    }

    [Fact]
    public void The_writer_sends_nothing_for_no_arguments_the_bare_value_for_one_and_the_named_object_for_more()
    {
        Assert.Equal("", Written(_ => { }));
        Assert.Equal("9", Written(w => w.WriteValue(9, s_int)));
        Assert.Equal("{\"a\":40,\"b\":2}", Written(w =>
        {
            w.WriteArgument("a", 40, s_int);
            w.WriteArgument("b", 2, s_int);
        }));
        // The writer a thread gets back is clean: nothing of the last request leaks into the next.
        Assert.Equal("\"tea\"", Written(w => w.WriteValue("tea", s_string)));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" null ")]
    [InlineData("{}")]
    public void A_method_without_parameters_takes_an_empty_body_null_or_an_empty_object(string body) =>
        Reader(s_reset, body).EnsureNoArguments();

    [Fact]
    public void A_method_without_parameters_refuses_any_other_body()
    {
        var thrown = Assert.Throws<RpcBadRequestException>(() => Reader(s_reset, "1").EnsureNoArguments());
        Assert.Equal("Method 'Reset' takes no arguments, but the request body is not empty.", thrown.Message);
    }

    [Theory]
    [InlineData("9")]
    [InlineData(" 9 ")]
    [InlineData("{\"n\":9}")]
    public void A_one_parameter_method_reads_the_bare_value_and_the_named_form(string body) =>
        Assert.Equal(9, Reader(s_fib, body).Read(0, s_int, hasDefault: false, 0));

    // An object argument is read once when the body cannot be the named form (neither the parameter's name nor an
    // escape occurs in it); these pin that the bodies that can be still are, wherever the name is and however spelt.
    [Theory]
    [InlineData("{\"a\":1,\"b\":2}", "a=1,b=2")]
    [InlineData("{\"tags\":{\"a\":1}}", "a=1")]
    [InlineData("{\"t\\u0061gs\":{\"a\":1}}", "a=1")]
    [InlineData("{\"a\\u0062\":1}", "ab=1")]
    [InlineData("{\"a\":1,\"x\":2}", "a=1,x=2")]
    public void An_object_argument_is_the_bare_value_unless_a_property_names_the_parameter(string body, string expected)
    {
        var map = Reader(s_tag, body).Read(0, s_map, hasDefault: false, null!);
        Assert.Equal(expected, string.Join(",", map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value)));
    }

    [Fact]
    public void An_object_naming_the_parameter_after_another_property_is_the_named_form_and_refused_for_the_other()
    {
        var e = Assert.Throws<RpcBadRequestException>(() => Reader(s_tag, "{\"a\":1,\"tags\":{\"a\":1}}").Read(0, s_map, hasDefault: false, null!));
        Assert.StartsWith("Method 'Tag' of service 'Calc' has no parameter 'a'", e.Message);
    }

    [Fact]
    public void The_named_form_is_read_in_any_order_and_a_missing_optional_argument_takes_its_default()
    {
        var reader = Reader(s_add, "{\"b\":2,\"a\":40}");
        Assert.Equal((40, 2, 7), (reader.Read(0, s_int, false, 0), reader.Read(1, s_int, false, 0), reader.Read(2, s_int, true, 7)));
    }

    [Fact]
    public void A_single_value_method_reads_the_bare_first_argument_and_the_named_form_of_newer_clients()
    {
        var bare = Reader(s_search, "\"tea\"");
        Assert.Equal(("tea", 10), (bare.Read(0, s_string, false, null!), bare.Read(1, s_int, true, 10)));
        var named = Reader(s_search, "{\"query\":\"tea\",\"limit\":5}");
        Assert.Equal(("tea", 5), (named.Read(0, s_string, false, null!), named.Read(1, s_int, true, 10)));
    }

    [Theory]
    [InlineData("40", "Method 'Add' takes 3 arguments: the body must be a JSON object with properties 'a', 'b', 'c'.")]
    [InlineData("{\"a\":1,\"b\":2,\"d\":3}", "Method 'Add' of service 'Calc' has no parameter 'd' (its parameters: 'a', 'b', 'c');")]
    [InlineData("{\"a\":1,\"a\":2,\"b\":3}", "Argument 'a' of method 'Add' appears twice.")]
    [InlineData("{\"a\":1}", "Argument 'b' of method 'Add' is missing.")]
    [InlineData("{\"a\":\"1\",\"b\":2}", "Argument 'a' of method 'Add' is not a valid Int32:")]
    [InlineData("{\"a\":1,\"b\":2} {}", "The body of method 'Add' is not valid JSON:")]
    [InlineData("{\"a\":1,", "The body of method 'Add' is not valid JSON:")]
    public void A_body_that_breaks_the_rules_is_a_bad_request_that_says_which_rule(string body, string message)
    {
        var thrown = Assert.Throws<RpcBadRequestException>(() =>
        {
            var reader = Reader(s_add, body);
            reader.Read(0, s_int, false, 0);
            reader.Read(1, s_int, false, 0);
        });
        Assert.StartsWith(message, thrown.Message);
    }

    [Fact]
    public void A_null_for_a_parameter_that_must_not_be_null_is_a_bad_request()
    {
        var thrown = Assert.Throws<RpcBadRequestException>(() => Reader(s_search, "null", "application/json").Read(0, s_string, false, null!));
        Assert.Equal("Argument 'query' of method 'Search' must not be null.", thrown.Message);
    }

    [Fact]
    public void Invalid_UTF_8_inside_a_JSON_string_is_a_bad_request()
    {
        byte[] body = [.. "{\"query\":\""u8, 0xC3, 0x28, .. "\"}"u8];
        var thrown = Assert.Throws<RpcBadRequestException>(() => new RequestBodyReader(s_search, body, "application/json").Read(0, s_string, false, null!));
        Assert.Contains("'query'", thrown.Message);
    }

    [Theory]
    [InlineData("text/plain", "Hello World...", "Hello World...")]
    [InlineData("text/plain", "\"quoted\"", "\"quoted\"")]
    [InlineData("text/plain", "", "")]
    [InlineData("TEXT/PLAIN; charset=utf-8", "Grüße", "Grüße")]
    [InlineData(null, "\"json\"", "json")]
    [InlineData(null, "{\"text\": \"named\"}", "named")]
    [InlineData(null, "Hello World...", "Hello World...")]
    [InlineData(null, "42", "42")]
    [InlineData(null, "{\"other\": 1}", "{\"other\": 1}")]
    [InlineData(null, "\"a\" b", "\"a\" b")]
    [InlineData("application/json", "\"json\"", "json")]
    [InlineData("application/json; charset=utf-8", "null", null)]
    public void A_single_string_parameter_takes_text_as_the_content_type_says(string? contentType, string body, string? expected) =>
        Assert.Equal(expected, Reader(s_echo, body, contentType).Read(0, s_string, false, null!));

    [Fact]
    public void Text_sent_as_application_json_is_a_bad_request()
    {
        var thrown = Assert.Throws<RpcBadRequestException>(() => Reader(s_echo, "Hello World...", "application/json").Read(0, s_string, false, null!));
        Assert.StartsWith("Argument 'text' of method 'Echo' is not a valid String:", thrown.Message);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData(null)]
    public void Text_that_is_not_UTF_8_is_a_bad_request_never_read_with_replacement_characters(string? contentType)
    {
        byte[] body = [.. "Gr"u8, 0xC3, 0x28, .. "e"u8];
        var thrown = Assert.Throws<RpcBadRequestException>(() => new RequestBodyReader(s_echo, body, contentType).Read(0, s_string, false, null!));
        Assert.StartsWith("Argument 'text' of method 'Echo' is sent as text, but the body is not valid UTF-8:", thrown.Message);
    }

    [Fact]
    public void Text_plain_is_JSON_for_any_other_parameter_type_and_for_a_method_that_does_not_take_a_single_value()
    {
        Assert.Equal(30, Reader(s_fib, "30", "text/plain").Read(0, s_int, false, 0));
        var label = Reader(s_label, "{\"text\":\"x\",\"n\":1}", "text/plain");
        Assert.Equal(("x", 1), (label.Read(0, s_string, false, null!), label.Read(1, s_int, false, 0)));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("application/json", true)]
    [InlineData("Application/JSON; charset=utf-8", true)]
    [InlineData("text/plain", true)]
    [InlineData(" text/plain ;charset=us-ascii", true)]
    [InlineData("application/xml", false)]
    [InlineData("text/plainer", false)]
    public void Only_JSON_and_plain_text_content_types_are_accepted(string? contentType, bool accepted) =>
        Assert.Equal(accepted, WireContract.IsAcceptedContentType(contentType));
}
