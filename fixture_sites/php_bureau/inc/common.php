<?php
/*
 * 北仑区人力资源和社会保障局 - shared helpers and page template.
 *
 * Source files are UTF-8; every page is sent as GBK bytes (output buffer converts at the end).
 * Data (site.sqlite, uploadfile/) lives in the directory named by the RSJ_DATA_DIR environment variable.
 */
error_reporting(E_ALL);
ini_set('display_errors', '0');
date_default_timezone_set('Asia/Shanghai');

const SITE_NAME = '北仑区人力资源和社会保障局';
const SITE_ID_CODE = '3302060013';
const PER_PAGE = 15;

function data_dir(): string
{
    $dir = getenv('RSJ_DATA_DIR');
    return ($dir === false || $dir === '') ? __DIR__ . '/../data' : rtrim($dir, '/');
}

function h($s): string
{
    return htmlspecialchars((string)$s, ENT_QUOTES, 'UTF-8');
}

/* Start a GBK page. $contentType is sent verbatim (PHP must not append its own charset). */
function gbk_begin(string $contentType = 'text/html; charset=GBK', int $status = 200): void
{
    ini_set('default_charset', '');
    http_response_code($status);
    header('Content-Type: ' . $contentType);
    header('Cache-Control: no-cache');
    ob_start(function ($buf) {
        return mb_convert_encoding($buf, 'GBK', 'UTF-8');
    });
}

function db(): PDO
{
    static $pdo = null;
    if ($pdo === null) {
        $file = data_dir() . '/site.sqlite';
        if (!is_file($file)) {
            server_error('数据库连接失败');
        }
        $pdo = new PDO('sqlite:' . $file, null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
        $pdo->setAttribute(PDO::ATTR_DEFAULT_FETCH_MODE, PDO::FETCH_ASSOC);
    }
    return $pdo;
}

function categories(): array
{
    static $cats = null;
    if ($cats === null) {
        $cats = [];
        foreach (db()->query('SELECT * FROM category ORDER BY listorder') as $row) {
            $cats[(int)$row['catid']] = $row;
        }
    }
    return $cats;
}

function fmt_dt(string $dt, string $format): string
{
    $d = DateTime::createFromFormat('Y-m-d H:i:s', $dt) ?: DateTime::createFromFormat('Y-m-d', $dt);
    return $d->format($format);
}

/* 发布时间 on the detail page: the CMS template changed over the years, so the format varies. */
function fmt_pubtime(string $dt, int $style): string
{
    $formats = ['Y-m-d H:i:s', 'Y年n月j日 H:i', 'Y/n/j H:i', 'Y年n月j日', 'Y-m-d'];
    return fmt_dt($dt, $formats[$style] ?? 'Y-m-d H:i:s');
}

/* Date next to a list item; each column template uses its own format. */
function fmt_listdate(string $dt, string $style): string
{
    switch ($style) {
        case 'slash':
            return fmt_dt($dt, 'Y/n/j');
        case 'cn_paren':
            return fmt_dt($dt, '(Y年m月d日)');
        default:
            return fmt_dt($dt, '[Y-m-d]');
    }
}

function cut_title(string $title, int $len = 26): string
{
    return mb_strlen($title, 'UTF-8') > $len ? mb_substr($title, 0, $len - 1, 'UTF-8') . '…' : $title;
}

/* ------------------------------------------------------------------------------------------ template */

function page_head(string $title, ?string $metaCharset = 'gb2312'): void
{
    echo '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">', "\n";
    echo '<html xmlns="http://www.w3.org/1999/xhtml">', "\n<head>\n";
    if ($metaCharset !== null) {
        echo '<meta http-equiv="Content-Type" content="text/html; charset=', $metaCharset, '" />', "\n";
    }
    echo '<title>', h($title), "</title>\n";
    echo '<meta name="keywords" content="北仑,人力资源,社会保障,社保,就业,人才" />', "\n";
    echo '<meta name="description" content="', SITE_NAME, '" />', "\n";
    echo '<meta name="SiteName" content="', SITE_NAME, '" />', "\n";
    echo '<meta name="SiteIDCode" content="', SITE_ID_CODE, '" />', "\n";
    echo '<link href="/css/style.css" rel="stylesheet" type="text/css" />', "\n";
    echo '<script type="text/javascript" src="/js/common.js"></script>', "\n";
    echo <<<HTML
<script type="text/javascript">
<!--
function MM_swapImgRestore() { var i,x,a=document.MM_sr; for(i=0;a&&i<a.length&&(x=a[i])&&x.oSrc;i++) x.src=x.oSrc; }
var _hmt = _hmt || [];
//-->
</script>
</head>
<body leftmargin="0" topmargin="0" marginwidth="0" marginheight="0">

HTML;
}

function page_top(int $current = 0): void
{
    $site = SITE_NAME;
    echo <<<HTML
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" id="top">
  <tr>
    <td height="28" class="topbar">
      <table width="100%" border="0" cellspacing="0" cellpadding="0"><tr>
        <td class="date">今天是：<script type="text/javascript">var d=new Date();var w=["日","一","二","三","四","五","六"];document.write(d.getFullYear()+"年"+(d.getMonth()+1)+"月"+d.getDate()+"日 星期"+w[d.getDay()]);</script>　北仑：多云 12℃～19℃</td>
        <td align="right"><a href="#" onclick="this.style.behavior='url(#default#homepage)';this.setHomePage('http://rsj.bl.gov.cn');return false;">设为首页</a> | <a href="javascript:window.external.AddFavorite('http://rsj.bl.gov.cn','{$site}')">加入收藏</a> | <a href="http://www.bl.gov.cn" target="_blank">北仑之窗</a></td>
      </tr></table>
    </td>
  </tr>
  <tr>
    <td class="banner"><img src="/images/banner.gif" width="1000" height="120" alt="{$site}" border="0" /></td>
  </tr>
  <tr>
    <td class="nav">
      <a href="index.php"

HTML;
    echo $current === 0 ? ' class="on"' : '', '>首页</a>';
    foreach (categories() as $cid => $cat) {
        echo ' | <a href="list.php?catid=', $cid, '"', $cid === $current ? ' class="on"' : '', '>', h($cat['catname']), '</a>';
    }
    echo <<<HTML

      <form name="search" action="search.php" method="get" style="display:inline" onsubmit="if(this.keyword.value==''){alert('请输入关键字！');return false;}"><input type="text" name="keyword" size="14" class="input" /><input type="submit" value="搜索" class="btn" /></form>
    </td>
  </tr>
</table>

HTML;
}

function sidebar(int $current): void
{
    echo '<td width="220" valign="top" class="left">', "\n";
    echo '<div class="left_title">栏目导航</div>', "\n<ul class=\"left_menu\">\n";
    foreach (categories() as $cid => $cat) {
        echo '  <li', $cid === $current ? ' class="on"' : '', '><a href="list.php?catid=', $cid, '">', h($cat['catname']), "</a></li>\n";
    }
    echo <<<HTML
</ul>
<div class="left_title">联系我们</div>
<div class="left_box">地址：宁波市北仑区新碶街道长江路1166号<br />邮编：315800<br />咨询电话：0574-86781234<br />监督电话：0574-86785678<br />办公时间：周一至周五<br />上午8:30-12:00 下午13:30-17:00</div>
<div class="left_title">便民服务</div>
<div class="left_box"><a href="http://www.zjzwfw.gov.cn" target="_blank">浙江政务服务网</a><br /><a href="http://rsj.ningbo.gov.cn" target="_blank">宁波市人力社保局</a><br /><a href="javascript:void(0)" onclick="alert('系统维护中，请稍后再试');">社保查询</a></div>
</td>

HTML;
}

function page_foot(): void
{
    $site = SITE_NAME;
    $code = SITE_ID_CODE;
    echo <<<HTML
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="footer">
  <tr><td align="center" class="footer_nav"><a href="index.php">网站首页</a> | <a href="javascript:void(0)" onclick="window.open('http://www.bl.gov.cn','_blank')">北仑之窗</a> | <a href="javascript:scroll(0,0)">返回顶部</a></td></tr>
  <tr>
    <td align="center" height="90">
      主办单位：{$site}　承办：局办公室<br />
      地址：宁波市北仑区新碶街道长江路1166号　邮编：315800　电话：0574-86781234　传真：0574-86781235<br />
      <a href="http://www.beian.miit.gov.cn" target="_blank">浙ICP备05012345号</a>　网站标识码：{$code}　建议使用IE6.0以上浏览器、1024×768分辨率浏览<br />
      技术支持：宁波市北仑区信息中心
    </td>
  </tr>
</table>
<script type="text/javascript">
<!--
try { document.getElementById('top').style.display = ''; } catch (e) {}
//-->
</script>
</body>
</html>

HTML;
}

/* ------------------------------------------------------------------------------------------- errors */

function not_found(): void
{
    while (ob_get_level() > 0) {
        ob_end_clean();
    }
    gbk_begin('text/html; charset=GBK', 404);
    page_head('页面不存在 - ' . SITE_NAME);
    echo <<<HTML
<table width="600" border="0" align="center" cellpadding="20" cellspacing="0" style="margin-top:80px;border:1px solid #ccc">
  <tr><td align="center"><h2>404 对不起，您访问的页面不存在或已被删除！</h2>
  <p><a href="/index.php">返回首页</a>　<a href="javascript:history.back()">返回上一页</a></p></td></tr>
</table>
</body>
</html>

HTML;
    ob_end_flush();
    exit;
}

function server_error(string $msg): void
{
    while (ob_get_level() > 0) {
        ob_end_clean();
    }
    gbk_begin('text/html; charset=GBK', 500);
    echo '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312" /><title>错误</title></head><body>';
    echo '<p>', h($msg), '</p></body></html>';
    ob_end_flush();
    exit;
}
