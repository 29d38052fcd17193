<%@ Page Language="C#" MasterPageFile="~/Site.master" Title="北仑区交通运输局" %>
<%@ Import Namespace="Jtj.Web" %>
<script runat="server">
    // 栏目列表: List.aspx?cid=N.  A GridView with the default numeric pager: page 1 comes with the GET,
    // every other page only by postback (__doPostBack('ctl00$Main$GridView1','Page$N')).
    Column column;

    protected void Page_Load(object sender, EventArgs e)
    {
        column = SiteData.GetColumn(SiteData.QueryInt(Request, "cid"));
        if (column == null)
        {
            Response.StatusCode = 404;
            Response.StatusDescription = "Not Found";
            NotFound.Visible = true;
            GridView1.Visible = false;
            ColumnName.Text = "栏目不存在";
            return;
        }
        Page.Title = column.Name + " - " + SiteData.SiteName;
        ColumnName.Text = HttpUtility.HtmlEncode(column.Name);
        if (!IsPostBack)
            BindList();
    }

    void BindList()
    {
        var rows = SiteData.InColumn(column.Cid);
        GridView1.DataSource = rows;
        GridView1.DataBind();
        Total.Text = String.Format("共 {0} 条记录，每页 {1} 条，当前第 {2}/{3} 页", rows.Count, GridView1.PageSize,
                                   GridView1.PageIndex + 1, Math.Max(1, GridView1.PageCount));
    }

    protected void GridView1_PageIndexChanging(object sender, GridViewPageEventArgs e)
    {
        GridView1.PageIndex = e.NewPageIndex;
        BindList();
    }
</script>
<asp:Content ID="Content1" ContentPlaceHolderID="Main" runat="server">
  <div class="position">当前位置：<a href="Default.aspx">首页</a> &gt; <asp:Literal ID="ColumnName" runat="server" /></div>
  <asp:GridView ID="GridView1" runat="server" AutoGenerateColumns="False" AllowPaging="True" PageSize="15"
      ShowHeader="False" GridLines="None" CssClass="list" CellPadding="0"
      OnPageIndexChanging="GridView1_PageIndexChanging">
    <Columns>
      <asp:TemplateField ItemStyle-CssClass="title">
        <ItemTemplate>&middot; <a href="Show.aspx?id=<%# Eval("Id") %>" title="<%# HttpUtility.HtmlAttributeEncode((string)Eval("Title")) %>" target="_blank"><%# HttpUtility.HtmlEncode((string)Eval("ShortTitle")) %></a></ItemTemplate>
      </asp:TemplateField>
      <asp:BoundField DataField="Published" DataFormatString="{0:yyyy-MM-dd}" HtmlEncode="False" ItemStyle-CssClass="date" />
    </Columns>
    <PagerStyle CssClass="pager" />
    <PagerSettings Mode="Numeric" PageButtonCount="10" Position="Bottom" />
  </asp:GridView>
  <asp:PlaceHolder ID="NotFound" runat="server" Visible="false"><p class="notfound">您访问的栏目不存在。</p></asp:PlaceHolder>
  <p class="total"><asp:Literal ID="Total" runat="server" /></p>
</asp:Content>
