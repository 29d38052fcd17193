// The "CMS database" of 北仑区交通运输局: tab-separated UTF-8 files written by fixture_sites/aspnet_generator.py
// into the data directory named by the environment variable JTJ_DATA_DIR:
//
//   columns.tsv      cid  name
//   articles.tsv     id  cid  title  published(yyyy-MM-dd HH:mm:ss)  pubstyle  source  hits  index_number
//                    publisher  topic  written_date(yyyy-MM-dd)  document_number  validity  body_html
//   attachments.tsv  article_id  name  path  file_type
//
// Each file starts with a header line.  In a value "\N" is NULL, and "\\", "\t", "\n", "\r" are escapes.
// Compiled by System.Web at run time (App_Code).

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Web;

namespace Jtj.Web
{
    public class Attachment
    {
        public string Name { get; set; }
        public string Path { get; set; }
        public string FileType { get; set; }
    }

    public class Article
    {
        public int Id { get; set; }
        public int Cid { get; set; }
        public string Title { get; set; }
        public DateTime Published { get; set; }
        public int PubStyle { get; set; }
        public string Source { get; set; }
        public int Hits { get; set; }
        public string IndexNumber { get; set; }
        public string Publisher { get; set; }
        public string Topic { get; set; }
        public DateTime? WrittenDate { get; set; }
        public string DocumentNumber { get; set; }
        public string Validity { get; set; }
        public string BodyHtml { get; set; }
        public List<Attachment> Attachments { get; set; }

        public bool HasDisclosure { get { return IndexNumber != null; } }

        /// <summary>The list shows at most 26 characters of a title, like the old CMS did.</summary>
        public string ShortTitle
        {
            get { return Title.Length > 28 ? Title.Substring(0, 26) + "…" : Title; }
        }

        // 发布日期 styles of the detail page; the generator's truth knows which precision each shows
        static readonly string[] PubFormats = {
            "yyyy/M/d H:mm:ss",     // 0: second
            "yyyy年M月d日 HH:mm",   // 1: minute
            "yyyy/M/d H:mm",        // 2: minute
            "yyyy年M月d日",         // 3: day
            "yyyy-MM-dd",           // 4: day
        };

        public string PublishedText
        {
            get { return Published.ToString(PubFormats[PubStyle], CultureInfo.InvariantCulture); }
        }
    }

    public class Column
    {
        public int Cid { get; set; }
        public string Name { get; set; }
    }

    public static class SiteData
    {
        public const string SiteName = "北仑区交通运输局";
        public const string PublicOrigin = "http://jtj.bl.gov.cn";

        static readonly object sync = new object();
        static DateTime loadedStamp;
        static List<Column> columns;
        static List<Article> articles;
        static Dictionary<int, Article> byId;

        public static string DataDir
        {
            get
            {
                string d = Environment.GetEnvironmentVariable("JTJ_DATA_DIR");
                if (String.IsNullOrEmpty(d))
                    throw new InvalidOperationException("JTJ_DATA_DIR is not set");
                return d;
            }
        }

        static string Unescape(string s)
        {
            if (s == "\\N") return null;
            if (s.IndexOf('\\') < 0) return s;
            var sb = new StringBuilder(s.Length);
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (c == '\\' && i + 1 < s.Length)
                {
                    char n = s[++i];
                    sb.Append(n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n);
                }
                else sb.Append(c);
            }
            return sb.ToString();
        }

        static IEnumerable<string[]> Rows(string file)
        {
            bool header = true;
            foreach (string line in File.ReadLines(Path.Combine(DataDir, file), Encoding.UTF8))
            {
                if (header) { header = false; continue; }
                if (line.Length == 0) continue;
                yield return line.Split('\t').Select(Unescape).ToArray();
            }
        }

        static DateTime ParseDate(string s, string fmt)
        {
            return DateTime.ParseExact(s, fmt, CultureInfo.InvariantCulture);
        }

        static void Load()
        {
            DateTime stamp = File.GetLastWriteTimeUtc(Path.Combine(DataDir, "articles.tsv"));
            lock (sync)
            {
                if (articles != null && stamp == loadedStamp) return;
                var cols = Rows("columns.tsv").Select(r => new Column { Cid = Int32.Parse(r[0]), Name = r[1] }).ToList();
                var atts = new Dictionary<int, List<Attachment>>();
                foreach (var r in Rows("attachments.tsv"))
                {
                    int aid = Int32.Parse(r[0]);
                    if (!atts.ContainsKey(aid)) atts[aid] = new List<Attachment>();
                    atts[aid].Add(new Attachment { Name = r[1], Path = r[2], FileType = r[3] });
                }
                var arts = new List<Article>();
                foreach (var r in Rows("articles.tsv"))
                {
                    var a = new Article
                    {
                        Id = Int32.Parse(r[0]),
                        Cid = Int32.Parse(r[1]),
                        Title = r[2],
                        Published = ParseDate(r[3], "yyyy-MM-dd HH:mm:ss"),
                        PubStyle = Int32.Parse(r[4]),
                        Source = r[5],
                        Hits = Int32.Parse(r[6]),
                        IndexNumber = r[7],
                        Publisher = r[8],
                        Topic = r[9],
                        WrittenDate = r[10] == null ? (DateTime?)null : ParseDate(r[10], "yyyy-MM-dd"),
                        DocumentNumber = r[11],
                        Validity = r[12],
                        BodyHtml = r[13],
                    };
                    List<Attachment> list;
                    a.Attachments = atts.TryGetValue(a.Id, out list) ? list : new List<Attachment>();
                    arts.Add(a);
                }
                // newest first, like every column list of the old CMS
                arts = arts.OrderByDescending(a => a.Published).ThenByDescending(a => a.Id).ToList();
                columns = cols;
                articles = arts;
                byId = arts.ToDictionary(a => a.Id);
                loadedStamp = stamp;
            }
        }

        public static List<Column> Columns
        {
            get { Load(); return columns; }
        }

        public static Column GetColumn(int cid)
        {
            return Columns.FirstOrDefault(c => c.Cid == cid);
        }

        public static List<Article> InColumn(int cid)
        {
            Load();
            return articles.Where(a => a.Cid == cid).ToList();
        }

        public static List<Article> Latest(int cid, int n)
        {
            Load();
            return articles.Where(a => cid == 0 || a.Cid == cid).Take(n).ToList();
        }

        public static Article Get(int id)
        {
            Load();
            Article a;
            return byId.TryGetValue(id, out a) ? a : null;
        }

        public static int QueryInt(HttpRequest request, string name)
        {
            int v;
            return Int32.TryParse(request.QueryString[name], NumberStyles.None, CultureInfo.InvariantCulture, out v) ? v : 0;
        }
    }
}
