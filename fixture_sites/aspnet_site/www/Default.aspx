<%@ Page Language="C#" MasterPageFile="~/Site.master" Title="北仑区交通运输局" %>
<%@ Import Namespace="Jtj.Web" %>
<script runat="server">
    // 首页: the four columns with their latest articles
    protected void Page_Load(object sender, EventArgs e)
    {
        Boxes.DataSource = SiteData.Columns;
        Boxes.DataBind();
        LatestList.DataSource = SiteData.Latest(0, 8);
        LatestList.DataBind();
    }

    protected void Boxes_ItemDataBound(object sender, RepeaterItemEventArgs e)
    {
        if (e.Item.ItemType != ListItemType.Item && e.Item.ItemType != ListItemType.AlternatingItem) return;
        var col = (Column)e.Item.DataItem;
        var r = (Repeater)e.Item.FindControl("Items");
        r.DataSource = SiteData.Latest(col.Cid, 6);
        r.DataBind();
    }
</script>
<asp:Content ID="Content1" ContentPlaceHolderID="Main" runat="server">
  <div class="box latest">
    <h3>最新信息</h3>
    <ul>
    <asp:Repeater ID="LatestList" runat="server" EnableViewState="false">
      <ItemTemplate>
      <li><span><%# Eval("Published", "{0:yyyy-MM-dd}") %></span><a href="Show.aspx?id=<%# Eval("Id") %>" title="<%# HttpUtility.HtmlAttributeEncode((string)Eval("Title")) %>" target="_blank"><%# HttpUtility.HtmlEncode((string)Eval("ShortTitle")) %></a></li>
      </ItemTemplate>
    </asp:Repeater>
    </ul>
  </div>
  <asp:Repeater ID="Boxes" runat="server" OnItemDataBound="Boxes_ItemDataBound" EnableViewState="false">
    <ItemTemplate>
  <div class="box column">
    <h3><a class="more" href="List.aspx?cid=<%# Eval("Cid") %>">更多&gt;&gt;</a><a href="List.aspx?cid=<%# Eval("Cid") %>"><%# HttpUtility.HtmlEncode((string)Eval("Name")) %></a></h3>
    <ul>
      <asp:Repeater ID="Items" runat="server">
        <ItemTemplate>
      <li><span><%# Eval("Published", "{0:MM-dd}") %></span><a href="Show.aspx?id=<%# Eval("Id") %>" title="<%# HttpUtility.HtmlAttributeEncode((string)Eval("Title")) %>" target="_blank"><%# HttpUtility.HtmlEncode((string)Eval("ShortTitle")) %></a></li>
        </ItemTemplate>
      </asp:Repeater>
    </ul>
  </div>
    </ItemTemplate>
  </asp:Repeater>
</asp:Content>
