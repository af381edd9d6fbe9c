using System;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace RpcGen.Generator.Parsing;

/// <summary>Constant values written back as C# expressions that compile in a generated signature.</summary>
internal static class CSharpLiterals
{
    /// <summary>The default value of an optional parameter.</summary>
    public static string DefaultValue(IParameterSymbol parameter)
    {
        var value = parameter.ExplicitDefaultValue;
        var type = parameter.Type;
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            if (value is null) return "null";
            type = nullable.TypeArguments[0];
        }

        if (value is null) return type.IsReferenceType ? "null" : "default";

        if (type.TypeKind == TypeKind.Enum)
        {
            // A named member reads as the user wrote it; a value with no member of its own (a flags combination,
            // an undefined number) can only be a cast.
            var enumType = type.ToDisplayString(SymbolFormats.Type);
            return EnumMember(type, value) is { } member
                ? enumType + "." + Names.EscapeIdentifier(member)
                : "(" + enumType + ")(" + Numeric(value) + ")";
        }

        return value switch
        {
            string s => SymbolDisplay.FormatLiteral(s, quote: true),
            char c => SymbolDisplay.FormatLiteral(c, quote: true),
            bool b => b ? "true" : "false",
            _ => Numeric(value),
        };
    }

    private static string? EnumMember(ITypeSymbol enumType, object value)
    {
        foreach (var member in enumType.GetMembers())
        {
            if (member is IFieldSymbol { HasConstantValue: true } field && Equals(field.ConstantValue, value)) return field.Name;
        }

        return null;
    }

    private static string Numeric(object value) => value switch
    {
        float f when float.IsNaN(f) => "float.NaN",
        float f when float.IsPositiveInfinity(f) => "float.PositiveInfinity",
        float f when float.IsNegativeInfinity(f) => "float.NegativeInfinity",
        double d when double.IsNaN(d) => "double.NaN",
        double d when double.IsPositiveInfinity(d) => "double.PositiveInfinity",
        double d when double.IsNegativeInfinity(d) => "double.NegativeInfinity",
        float f => f.ToString("R", CultureInfo.InvariantCulture) + "F",
        double d => d.ToString("R", CultureInfo.InvariantCulture) + "D",
        decimal m => m.ToString(CultureInfo.InvariantCulture) + "M",
        long l => l.ToString(CultureInfo.InvariantCulture) + "L",
        ulong ul => ul.ToString(CultureInfo.InvariantCulture) + "UL",
        uint u => u.ToString(CultureInfo.InvariantCulture) + "U",
        sbyte or byte or short or ushort => "(" + TypeKeyword(value) + ")" + Convert.ToString(value, CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "default",
    };

    private static string TypeKeyword(object value) => value switch
    {
        sbyte => "sbyte",
        byte => "byte",
        short => "short",
        _ => "ushort",
    };
}
