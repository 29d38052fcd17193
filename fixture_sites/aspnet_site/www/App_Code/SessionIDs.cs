// Session ids the way Microsoft's System.Web makes them: 24 characters of [a-z0-5] (120 random bits), e.g.
// "kx2p0tq1cbv4mzn3ahd5e0fw", instead of Mono's 24 upper-case hex digits.  With cookies they are the value of
// ASP.NET_SessionId; cookieless (<sessionState cookieless="UseUri">) they are the (S(...)) segment of every URL.
// Configured by sessionIDManagerType in Web.config; System.Web's own SessionIDManager does everything else.

using System;
using System.Security.Cryptography;
using System.Web;
using System.Web.SessionState;

namespace Jtj.Web
{
    public class DotNetSessionIDManager : SessionIDManager
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz012345";
        static readonly RandomNumberGenerator Rng = RandomNumberGenerator.Create();

        public override string CreateSessionID(HttpContext context)
        {
            var bytes = new byte[24];
            lock (Rng) Rng.GetBytes(bytes);
            var chars = new char[24];
            for (int i = 0; i < chars.Length; i++)
                chars[i] = Alphabet[bytes[i] & 31];
            return new string(chars);
        }
    }
}
