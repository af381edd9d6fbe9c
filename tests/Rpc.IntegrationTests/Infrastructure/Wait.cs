namespace RpcGen.IntegrationTests.Interop;

/// <summary>Bounded polling for state another process or thread changes: never waits forever.</summary>
internal static class Wait
{
    public static Task UntilAsync(Func<bool> condition, string failure, double seconds = 10) =>
        UntilAsync(() => Task.FromResult(condition()), failure, seconds);

    public static async Task UntilAsync(Func<Task<bool>> condition, string failure, double seconds = 10)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Not within {seconds} s: {failure}");
            await Task.Delay(10);
        }
    }
}
