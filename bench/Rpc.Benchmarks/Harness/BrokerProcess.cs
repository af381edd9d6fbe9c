using System.Globalization;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// The CPU time of the broker process on this host (Linux /proc), found by the socket listening on the AMQP port.
/// With the broker on the same two cores, its CPU per call is part of what a contender costs: properties, headers,
/// confirms and expirations are work for the broker too. Zero where it cannot be found (another host, no /proc).
/// </summary>
public sealed class BrokerProcess
{
    private readonly int _pid;

    private BrokerProcess(int pid) => _pid = pid;

    public int Pid => _pid;

    public static BrokerProcess? Find(int port)
    {
        try
        {
            var inodes = new HashSet<string>();
            foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
            {
                if (!File.Exists(table)) continue;
                foreach (var line in File.ReadLines(table).Skip(1))
                {
                    var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    // local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 is the inode.
                    if (fields.Length > 9 && fields[3] == "0A" && int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                    {
                        inodes.Add("socket:[" + fields[9] + "]");
                    }
                }
            }

            if (inodes.Count == 0) return null;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
                try
                {
                    foreach (var fd in Directory.EnumerateFiles(Path.Combine(dir, "fd")))
                    {
                        if (new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target)) return new BrokerProcess(pid);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return null;
    }

    /// <summary>User plus system CPU time so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{_pid}/stat");
                // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
            }
            catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
            {
                return TimeSpan.Zero;
            }
        }
    }
}
