using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace RpcGen.Ecosystem.Tests.Infrastructure;

/// <summary>What an assembly file says about itself, read from its metadata without loading it.</summary>
public sealed class AssemblyFacts
{
    private AssemblyFacts(string name, IReadOnlyList<(string Name, Version Version)> references, IReadOnlyList<(string Type, string[] Arguments)> attributes,
        IReadOnlyList<DebugDirectoryEntryType> debugEntries, Guid? pdbId)
    {
        Name = name;
        References = references;
        Attributes = attributes;
        DebugEntries = debugEntries;
        PdbId = pdbId;
    }

    public string Name { get; }
    public IReadOnlyList<(string Name, Version Version)> References { get; }

    /// <summary>Assembly-level attributes with their string arguments (other argument types are left out).</summary>
    public IReadOnlyList<(string Type, string[] Arguments)> Attributes { get; }

    public IReadOnlyList<DebugDirectoryEntryType> DebugEntries { get; }

    /// <summary>The id of the portable PDB the assembly was built with.</summary>
    public Guid? PdbId { get; }

    public static AssemblyFacts Read(byte[] image)
    {
        using var pe = new PEReader(ImmutableArray.Create(image));
        var reader = pe.GetMetadataReader();
        var references = reader.AssemblyReferences
            .Select(h => reader.GetAssemblyReference(h))
            .Select(r => (reader.GetString(r.Name), r.Version))
            .ToList();
        var attributes = new List<(string, string[])>();
        foreach (var handle in reader.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = reader.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != HandleKind.MemberReference) continue;
            var constructor = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
            if (constructor.Parent.Kind != HandleKind.TypeReference) continue;
            var type = reader.GetTypeReference((TypeReferenceHandle)constructor.Parent);
            var value = attribute.DecodeValue(new StringArguments());
            attributes.Add((reader.GetString(type.Namespace) + "." + reader.GetString(type.Name),
                value.FixedArguments.Select(a => a.Value as string ?? string.Empty).ToArray()));
        }

        var debug = pe.ReadDebugDirectory();
        var codeView = debug.Where(e => e.Type == DebugDirectoryEntryType.CodeView).Select(e => (Guid?)pe.ReadCodeViewDebugDirectoryData(e).Guid).FirstOrDefault();
        return new AssemblyFacts(reader.GetString(reader.GetAssemblyDefinition().Name), references, attributes,
            debug.Select(e => e.Type).ToList(), codeView);
    }

    public string? Metadata(string key) =>
        Attributes.Where(a => a.Type == "System.Reflection.AssemblyMetadataAttribute" && a.Arguments.Length == 2 && a.Arguments[0] == key)
            .Select(a => a.Arguments[1]).FirstOrDefault();

    /// <summary>Decodes attribute arguments far enough to read strings; other values come back as their type name.</summary>
    private sealed class StringArguments : ICustomAttributeTypeProvider<string>
    {
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();
        public string GetSystemType() => "System.Type";
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => reader.GetString(reader.GetTypeDefinition(handle).Name);
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => reader.GetString(reader.GetTypeReference(handle).Name);
        public string GetTypeFromSerializedName(string name) => name;
        public PrimitiveTypeCode GetUnderlyingEnumType(string type) => PrimitiveTypeCode.Int32;
        public bool IsSystemType(string type) => type == "System.Type";
    }
}

/// <summary>What a portable PDB says: its id and the source paths it records.</summary>
public sealed record PdbFacts(Guid Id, IReadOnlyList<string> Documents)
{
    public static PdbFacts Read(byte[] pdb)
    {
        using var provider = MetadataReaderProvider.FromPortablePdbImage(ImmutableArray.Create(pdb));
        var reader = provider.GetMetadataReader();
        var id = new BlobContentId(reader.DebugMetadataHeader!.Id);
        var documents = reader.Documents.Select(h => reader.GetString(reader.GetDocument(h).Name)).ToList();
        return new PdbFacts(id.Guid, documents);
    }
}
