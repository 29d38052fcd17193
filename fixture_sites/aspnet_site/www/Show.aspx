<%@ Page Language="C#" MasterPageFile="~/Site.master" Title="北仑区交通运输局" ResponseEncoding="gb2312" EnableViewState="false" %>
<%@ Import Namespace="Jtj.Web" %>
<script runat="server">
    // 文章页: Show.aspx?id=N
    protected Article art;
    protected Column column;

    protected void Page_Load(object sender, EventArgs e)
    {
        art = SiteData.Get(SiteData.QueryInt(Request, "id"));
        Response.ContentEncoding = System.Text.Encoding.GetEncoding("gb2312");
        if (art == null)
        {
            Response.StatusCode = 404;
            Response.StatusDescription = "Not Found";
            return;
        }
        column = SiteData.GetColumn(art.Cid);
        Page.Title = art.Title + " - " + SiteData.SiteName;
    }

    protected static string H(string s)
    {
        return HttpUtility.HtmlEncode(s ?? "");
    }
</script>
<asp:Content ID="Content1" ContentPlaceHolderID="Main" runat="server">
<% if (art == null) { %>
  <div class="position">当前位置：<a href="Default.aspx">首页</a> &gt; 正文</div>
  <div class="article"><p class="notfound">您访问的信息不存在或已被删除。</p></div>
<% } else { %>
  <div class="position">当前位置：<a href="Default.aspx">首页</a> &gt; <a href="List.aspx?cid=<%= column.Cid %>"><%= H(column.Name) %></a> &gt; 正文</div>
  <div class="article">
    <div class="article-title"><%= H(art.Title) %></div>
    <div class="article-info">发布日期：<%= art.PublishedText %>&nbsp;&nbsp;&nbsp;&nbsp;来源：<%= H(art.Source) %>&nbsp;&nbsp;&nbsp;&nbsp;浏览次数：<%= art.Hits %></div>
<% if (art.HasDisclosure) { %>
    <table class="gkxx" cellspacing="0" cellpadding="0">
      <tr>
        <td class="gkxx-label">索引号</td><td class="gkxx-value"><%= H(art.IndexNumber) %></td>
        <td class="gkxx-label">发布机构</td><td class="gkxx-value"><%= H(art.Publisher) %></td>
      </tr>
      <tr>
        <td class="gkxx-label">主题分类</td><td class="gkxx-value"><%= H(art.Topic) %></td>
        <td class="gkxx-label">成文日期</td><td class="gkxx-value"><%= art.WrittenDate.HasValue ? art.WrittenDate.Value.ToString("yyyy年MM月dd日", System.Globalization.CultureInfo.InvariantCulture) : "" %></td>
      </tr>
      <tr>
        <td class="gkxx-label">文号</td><td class="gkxx-value"><%= H(art.DocumentNumber) %></td>
        <td class="gkxx-label">有效性</td><td class="gkxx-value"><%= H(art.Validity) %></td>
      </tr>
    </table>
<% } %>
    <div id="ArticleContent">
<%= art.BodyHtml %>
    </div>
<% if (art.Attachments.Count > 0) { %>
    <div class="fujian">
      <strong>附件：</strong>
      <ul>
<% foreach (var att in art.Attachments) { %>
        <li><a href="<%= H(att.Path) %>" target="_blank"><%= H(att.Name) %></a></li>
<% } %>
      </ul>
    </div>
<% } %>
    <div class="toolbar">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</div>
  </div>
<% } %>
</asp:Content>
