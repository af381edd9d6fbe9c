using System;

namespace RpcGen.Testing.Broker;

/// <summary>AMQP topic patterns: words split by dots, <c>*</c> one word, <c>#</c> zero or more words.</summary>
internal static class TopicMatcher
{
    public static bool Matches(string pattern, string routingKey) =>
        Matches(pattern.Split('.'), 0, routingKey.Length == 0 ? Array.Empty<string>() : routingKey.Split('.'), 0);

    private static bool Matches(string[] pattern, int p, string[] words, int w)
    {
        while (true)
        {
            if (p == pattern.Length) return w == words.Length;
            if (pattern[p] == "#")
            {
                for (int skip = w; skip <= words.Length; skip++)
                {
                    if (Matches(pattern, p + 1, words, skip)) return true;
                }

                return false;
            }

            if (w == words.Length) return false;
            if (pattern[p] != "*" && !string.Equals(pattern[p], words[w], StringComparison.Ordinal)) return false;
            p++;
            w++;
        }
    }
}
