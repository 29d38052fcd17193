// JtjHost: a minimal web server that runs the ASP.NET WebForms application in www/ on Mono's System.Web.
//
//   mono JtjHost.exe --root APP_DIR --data DATA_DIR --host 127.0.0.1 --port 8080 [--watch-pid PID]
//
// With --watch-pid the host exits when that process is gone (the Python test run that started it was killed).
//
// The default AppDomain owns a System.Net.HttpListener; every request is copied into a serializable
// RequestData, handed to an AppHost living in the ASP.NET AppDomain that
// System.Web.Hosting.ApplicationHost.CreateApplicationHost made for APP_DIR (so JtjHost.exe must also be in
// APP_DIR/bin), run through System.Web.HttpRuntime.ProcessRequest with a SimpleWorkerRequest subclass, and the
// ResponseData (status, headers, cookies, body) is copied back onto the HttpListenerResponse.
//
// What this host does that IIS would do and System.Web does not: a request for a directory ("/" or
// "/(S(...))/") is served as its Default.aspx.  And one translation: Microsoft's System.Web (2.0+) writes a
// cookieless session id into URLs as "/(S(id))/", Mono's as "/(id)/"; the host turns a request's
// "/(S(id))/" into "/(id)/" for Mono and a redirect's "/(id)/" back into "/(S(id))/", so clients see .NET's
// form.  Everything else (pages, creating/stripping/redirecting cookieless session ids, static files such as
// robots.txt and /UploadFiles/, error pages) is System.Web's own behaviour.
// The data directory is passed to the application as the environment variable JTJ_DATA_DIR.

using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Web;
using System.Web.Hosting;

namespace Jtj.Host
{
    [Serializable]
    public class RequestData
    {
        public string Method;
        public string Path;        // decoded path, e.g. "/(S(abc))/List.aspx"
        public string Query;       // raw query string without "?"
        public string RawUrl;      // path + "?" + query as sent
        public string Protocol;    // "HTTP/1.1"
        public string[] HeaderNames;
        public string[] HeaderValues;
        public byte[] Body;
        public string RemoteAddress;
        public int RemotePort;
        public string LocalAddress;
        public int LocalPort;
    }

    [Serializable]
    public class ResponseData
    {
        public int Status = 200;
        public string StatusDescription = "OK";
        public List<string> HeaderNames = new List<string>();
        public List<string> HeaderValues = new List<string>();
        public byte[] Body;
    }

    /// <summary>Lives in the ASP.NET AppDomain; one call per request.</summary>
    public class AppHost : MarshalByRefObject
    {
        public override object InitializeLifetimeService()
        {
            return null; // the remoting lease never expires
        }

        public ResponseData Process(RequestData req)
        {
            var wr = new WorkerRequest(req);
            HttpRuntime.ProcessRequest(wr);
            if (!wr.Done.WaitOne(TimeSpan.FromSeconds(120)))
                throw new TimeoutException("System.Web did not finish the request within 120 s");
            return wr.Result();
        }

        public string Ping()
        {
            return HttpRuntime.AppDomainAppPath;
        }
    }

    public class WorkerRequest : SimpleWorkerRequest
    {
        readonly RequestData req;
        readonly MemoryStream body = new MemoryStream();
        readonly ResponseData resp = new ResponseData();
        public readonly ManualResetEvent Done = new ManualResetEvent(false);
        bool headersSent;
        int bodyRead;

        public WorkerRequest(RequestData req)
            : base(req.Path.TrimStart('/'), req.Query, TextWriter.Null)
        {
            this.req = req;
        }

        public ResponseData Result()
        {
            resp.Body = body.ToArray();
            return resp;
        }

        // ------------------------------------------------------------------------------ request line
        public override string GetHttpVerbName() { return req.Method; }
        public override string GetHttpVersion() { return req.Protocol; }
        public override string GetRawUrl() { return req.RawUrl; }
        // SimpleWorkerRequest takes everything after the first '/' of its page for PathInfo; we serve whole paths
        public override string GetUriPath() { return req.Path; }
        public override string GetFilePath() { return req.Path; }
        public override string GetPathInfo() { return ""; }
        public override string GetFilePathTranslated()
        {
            return Path.Combine(GetAppPathTranslated(), req.Path.TrimStart('/').Replace('/', Path.DirectorySeparatorChar));
        }
        public override string GetQueryString() { return req.Query ?? ""; }
        public override byte[] GetQueryStringRawBytes()
        {
            return req.Query == null ? null : Encoding.ASCII.GetBytes(req.Query);
        }
        public override string GetRemoteAddress() { return req.RemoteAddress; }
        public override int GetRemotePort() { return req.RemotePort; }
        public override string GetLocalAddress() { return req.LocalAddress; }
        public override int GetLocalPort() { return req.LocalPort; }
        public override string GetServerName()
        {
            string host = GetKnownRequestHeader(HeaderHost);
            if (!String.IsNullOrEmpty(host))
            {
                int colon = host.LastIndexOf(':');
                return colon > 0 && host.IndexOf(']') < colon ? host.Substring(0, colon) : host;
            }
            return req.LocalAddress;
        }
        public override string GetProtocol() { return "http"; }
        public override bool IsSecure() { return false; }

        // ------------------------------------------------------------------------------ request headers
        string Header(string name)
        {
            string found = null;
            for (int i = 0; i < req.HeaderNames.Length; i++)
            {
                if (String.Equals(req.HeaderNames[i], name, StringComparison.OrdinalIgnoreCase))
                    found = found == null ? req.HeaderValues[i] : found + ", " + req.HeaderValues[i];
            }
            return found;
        }

        public override string GetKnownRequestHeader(int index)
        {
            return Header(GetKnownRequestHeaderName(index));
        }

        public override string GetUnknownRequestHeader(string name)
        {
            return Header(name);
        }

        public override string[][] GetUnknownRequestHeaders()
        {
            var list = new List<string[]>();
            for (int i = 0; i < req.HeaderNames.Length; i++)
            {
                if (GetKnownRequestHeaderIndex(req.HeaderNames[i]) < 0)
                    list.Add(new[] { req.HeaderNames[i], req.HeaderValues[i] });
            }
            return list.ToArray();
        }

        public override string GetServerVariable(string name)
        {
            switch (name)
            {
                case "HTTPS": return "off";
                case "SERVER_SOFTWARE": return "Microsoft-IIS/6.0";
                default: return base.GetServerVariable(name);
            }
        }

        // ------------------------------------------------------------------------------ request body
        public override byte[] GetPreloadedEntityBody()
        {
            return req.Body != null && req.Body.Length > 0 ? req.Body : null;
        }

        public override int GetPreloadedEntityBodyLength()
        {
            return req.Body == null ? 0 : req.Body.Length;
        }

        public override bool IsEntireEntityBodyIsPreloaded() { return true; }

        public override int GetTotalEntityBodyLength()
        {
            return req.Body == null ? 0 : req.Body.Length;
        }

        public override int ReadEntityBody(byte[] buffer, int size)
        {
            return ReadEntityBody(buffer, 0, size);
        }

        public override int ReadEntityBody(byte[] buffer, int offset, int size)
        {
            if (req.Body == null) return 0;
            int n = Math.Min(size, req.Body.Length - bodyRead);
            if (n <= 0) return 0;
            Buffer.BlockCopy(req.Body, bodyRead, buffer, offset, n);
            bodyRead += n;
            return n;
        }

        // ------------------------------------------------------------------------------ response
        public override void SendStatus(int statusCode, string statusDescription)
        {
            resp.Status = statusCode;
            resp.StatusDescription = statusDescription;
        }

        public override void SendKnownResponseHeader(int index, string value)
        {
            SendUnknownResponseHeader(GetKnownResponseHeaderName(index), value);
        }

        public override void SendUnknownResponseHeader(string name, string value)
        {
            headersSent = true;
            resp.HeaderNames.Add(name);
            resp.HeaderValues.Add(value);
        }

        public override bool HeadersSent() { return headersSent; }

        public override void SendResponseFromMemory(byte[] data, int length)
        {
            body.Write(data, 0, length);
        }

        public override void SendResponseFromMemory(IntPtr data, int length)
        {
            if (length <= 0) return;
            var buf = new byte[length];
            System.Runtime.InteropServices.Marshal.Copy(data, buf, 0, length);
            body.Write(buf, 0, length);
        }

        public override void SendResponseFromFile(string filename, long offset, long length)
        {
            using (var f = new FileStream(filename, FileMode.Open, FileAccess.Read, FileShare.Read))
            {
                if (length < 0) length = f.Length - offset;
                f.Seek(offset, SeekOrigin.Begin);
                var buf = new byte[65536];
                while (length > 0)
                {
                    int n = f.Read(buf, 0, (int)Math.Min(buf.Length, length));
                    if (n <= 0) break;
                    body.Write(buf, 0, n);
                    length -= n;
                }
            }
        }

        public override void SendResponseFromFile(IntPtr handle, long offset, long length)
        {
            throw new NotSupportedException("SendResponseFromFile(handle)");
        }

        public override void FlushResponse(bool finalFlush)
        {
            // Mono's System.Web ends a normal request with FlushResponse(true) + EndOfRequest(), but a request
            // that fails before the pipeline (HttpRuntime.FinishWithException) only with FlushResponse(true)
            if (finalFlush) Done.Set();
        }

        public override void CloseConnection() { }

        public override bool IsClientConnected() { return true; }

        public override void EndOfRequest()
        {
            Done.Set();
        }
    }

    public static class Program
    {
        static string root, bindHost = "127.0.0.1";
        static int port;
        static AppHost app;
        // session ids as App_Code/SessionIDs.cs makes them: 24 of [a-z0-5]
        static readonly Regex DotNetSessionSegment = new Regex(@"^/\(S\(([a-z0-5]{24})\)\)/");
        static readonly Regex MonoSessionSegment = new Regex(@"/\(([a-z0-5]{24})\)/");
        static readonly object appLock = new object();

        static AppHost App(AppHost broken)
        {
            lock (appLock)
            {
                if (app == null || app == broken)
                {
                    app = (AppHost)ApplicationHost.CreateApplicationHost(typeof(AppHost), "/", root);
                    app.Ping();
                }
                return app;
            }
        }

        public static int Main(string[] args)
        {
            string data = null;
            int watchPid = 0;
            for (int i = 0; i + 1 < args.Length; i += 2)
            {
                switch (args[i])
                {
                    case "--root": root = Path.GetFullPath(args[i + 1]); break;
                    case "--data": data = Path.GetFullPath(args[i + 1]); break;
                    case "--host": bindHost = args[i + 1]; break;
                    case "--port": port = Int32.Parse(args[i + 1]); break;
                    case "--watch-pid": watchPid = Int32.Parse(args[i + 1]); break;
                    default: Console.Error.WriteLine("unknown option " + args[i]); return 2;
                }
            }
            if (root == null || data == null || port == 0)
            {
                Console.Error.WriteLine("usage: mono JtjHost.exe --root APP_DIR --data DATA_DIR [--host H] --port N");
                return 2;
            }
            try
            {
                Encoding.GetEncoding("gb2312");
            }
            catch (Exception e)
            {
                Console.Error.WriteLine("JtjHost: no GB2312 encoding in this Mono (" + e.Message +
                                        "): install the Debian package libmono-i18n-cjk4.0-cil");
                return 3;
            }
            Environment.SetEnvironmentVariable("JTJ_DATA_DIR", data);
            if (watchPid > 0)
            {
                var watcher = new Thread(() =>
                {
                    while (Directory.Exists("/proc/" + watchPid))
                        Thread.Sleep(1000);
                    Console.Error.WriteLine("JtjHost: process {0} is gone; exiting", watchPid);
                    Environment.Exit(0);
                });
                watcher.IsBackground = true;
                watcher.Start();
            }
            App(null);

            var listener = new HttpListener();
            listener.Prefixes.Add("http://" + (bindHost.Contains(":") ? "[" + bindHost + "]" : bindHost) + ":" + port + "/");
            listener.IgnoreWriteExceptions = true;
            listener.Start();
            Console.WriteLine("JtjHost listening on http://{0}:{1}/ root={2}", bindHost, port, root);
            Console.Out.Flush();
            while (true)
            {
                HttpListenerContext ctx;
                try
                {
                    ctx = listener.GetContext();
                }
                catch (Exception e)
                {
                    Console.Error.WriteLine("accept: " + e.Message);
                    continue;
                }
                ThreadPool.QueueUserWorkItem(Handle, ctx);
            }
        }

        static RequestData ToRequest(HttpListenerContext ctx)
        {
            var r = ctx.Request;
            string raw = r.RawUrl;
            int q = raw.IndexOf('?');
            string path = Uri.UnescapeDataString(q >= 0 ? raw.Substring(0, q) : raw);
            string query = q >= 0 ? raw.Substring(q + 1) : "";
            if (path.EndsWith("/"))
                path += "Default.aspx"; // IIS's default document
            if (DotNetSessionSegment.IsMatch(path))
            {
                path = DotNetSessionSegment.Replace(path, "/($1)/");
                raw = DotNetSessionSegment.Replace(raw, "/($1)/");
            }
            var names = new List<string>();
            var values = new List<string>();
            foreach (string key in r.Headers.AllKeys)
            {
                foreach (string v in r.Headers.GetValues(key))
                {
                    names.Add(key);
                    values.Add(v);
                }
            }
            byte[] body = null;
            if (r.HasEntityBody)
            {
                using (var ms = new MemoryStream())
                {
                    r.InputStream.CopyTo(ms);
                    body = ms.ToArray();
                }
            }
            return new RequestData
            {
                Method = r.HttpMethod,
                Path = path,
                Query = query,
                RawUrl = raw,
                Protocol = "HTTP/" + r.ProtocolVersion.ToString(2),
                HeaderNames = names.ToArray(),
                HeaderValues = values.ToArray(),
                Body = body,
                RemoteAddress = r.RemoteEndPoint.Address.ToString(),
                RemotePort = r.RemoteEndPoint.Port,
                LocalAddress = r.LocalEndPoint.Address.ToString(),
                LocalPort = r.LocalEndPoint.Port,
            };
        }

        static void Handle(object state)
        {
            var ctx = (HttpListenerContext)state;
            ResponseData resp;
            try
            {
                var req = ToRequest(ctx);
                AppHost current = App(null);
                try
                {
                    resp = current.Process(req);
                }
                catch (AppDomainUnloadedException)
                {
                    // System.Web recycled its AppDomain (e.g. after many recompilations): start a new one
                    resp = App(current).Process(req);
                }
            }
            catch (Exception e)
            {
                Console.Error.WriteLine("request failed: " + e);
                resp = new ResponseData { Status = 502, StatusDescription = "Bad Gateway",
                                          Body = Encoding.UTF8.GetBytes("JtjHost: " + e.Message + "\n") };
                resp.HeaderNames.Add("Content-Type");
                resp.HeaderValues.Add("text/plain; charset=utf-8");
            }
            try
            {
                Write(ctx, resp);
            }
            catch (Exception e)
            {
                Console.Error.WriteLine("write failed: " + e.Message);
                try { ctx.Response.Abort(); } catch { }
            }
        }

        static void Write(HttpListenerContext ctx, ResponseData resp)
        {
            var o = ctx.Response;
            long declaredLength = -1;
            o.StatusCode = resp.Status;
            o.StatusDescription = resp.StatusDescription ?? "";
            for (int i = 0; i < resp.HeaderNames.Count; i++)
            {
                string name = resp.HeaderNames[i], value = resp.HeaderValues[i];
                switch (name.ToLowerInvariant())
                {
                    case "content-length":
                        Int64.TryParse(value, out declaredLength);
                        break;
                    case "transfer-encoding":
                    case "connection":
                    case "keep-alive":
                    case "date":
                        break; // HttpListener writes these itself
                    case "content-type":
                        o.ContentType = value;
                        break;
                    case "location":
                        o.RedirectLocation = MonoSessionSegment.Replace(value, "/(S($1))/");
                        break;
                    default:
                        o.Headers.Add(name, value);
                        break;
                }
            }
            // what IIS 7.5 adds to every ASP.NET response (System.Web itself sends X-AspNet-Version)
            o.Headers.Set("Server", "Microsoft-IIS/7.5");
            o.Headers.Set("X-Powered-By", "ASP.NET");
            byte[] body = resp.Body ?? new byte[0];
            if (resp.Status >= 300 && resp.Status < 400 && body.Length > 0)
            {
                // "Object moved to <a href='/(id)/List.aspx'>": ASCII, so a Latin-1 round trip is lossless
                var latin1 = Encoding.GetEncoding(28591);
                body = latin1.GetBytes(MonoSessionSegment.Replace(latin1.GetString(body), "/(S($1))/"));
            }
            bool head = ctx.Request.HttpMethod == "HEAD";
            // System.Web leaves out the body of a HEAD response but still says how long the GET's would be
            o.ContentLength64 = head && body.Length == 0 && declaredLength > 0 ? declaredLength : body.Length;
            if (!head && body.Length > 0)
                o.OutputStream.Write(body, 0, body.Length);
            o.Close();
        }
    }
}
