<?php
/*
 * PHPCMS v9 (GBK edition) fixture (fixture_sites/cms_sites.py, site fl):
 *   /index.php?m=content&c=index&a=lists&catid=N[&page=M]   lists (list.html), catid 9 a 单网页 (page.html)
 *   /index.php?m=content&c=index&a=show&catid=N&id=M[&page=K] articles (show.html), [page] parts
 *   /api.php?op=count&id=M&modelid=1                          the view counter (every request counts)
 * Every link is absolute with APP_PATH: the site's configured address (caches/configs/system.php
 * 'app_path', set at install: the public host, also on a mirror), or the host the request came to
 * when site.json names none. Pages are rendered
 * from $CMS_DATA_DIR/site.json and sent as GBK; /uploadfile/ from $CMS_DATA_DIR.
 *
 *   CMS_DATA_DIR=/path/to/data php -S 127.0.0.1:8080 -t fixture_sites/cms_php/phpcms fixture_sites/cms_php/phpcms/router.php
 */
require __DIR__ . '/../common.php';

$path = cms_path();
define('APP_PATH', cms_site()['app_path'] ?? ('http://' . ($_SERVER['HTTP_HOST'] ?? '127.0.0.1') . '/'));

function pc_send(string $html): void
{
    cms_send(cms_gbk($html), 'text/html; charset=gbk');
}

function pc_lists_url(string $catid, int $page = 1): string
{
    return APP_PATH . 'index.php?m=content&c=index&a=lists&catid=' . $catid . ($page > 1 ? '&page=' . $page : '');
}

function pc_show_url(string $catid, int $id, int $page = 1): string
{
    return APP_PATH . 'index.php?m=content&c=index&a=show&catid=' . $catid . '&id=' . $id . ($page > 1 ? '&page=' . $page : '');
}

function pc_header(string $title): string
{
    $site = cms_site();
    $nav = '';
    foreach ($site['categories'] as $catid => $name) {
        $nav .= '<li><a href="' . pc_lists_url((string)$catid) . '">' . h($name) . '</a></li><li class="line">|</li>';
    }
    $nav .= '<li><a href="' . pc_lists_url($site['page']['catid']) . '">' . h($site['page']['title']) . '</a></li>';
    $app = APP_PATH;
    return <<<HTML
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<meta http-equiv="X-UA-Compatible" content="IE=7" />
<title>{$title}</title>
<meta name="keywords" content="">
<meta name="description" content="">
<link href="{$app}statics/css/reset.css" rel="stylesheet" type="text/css" />
<link href="{$app}statics/css/default_blue.css" rel="stylesheet" type="text/css" />
<script type="text/javascript" src="{$app}statics/js/jquery.min.js"></script>
<script type="text/javascript" src="{$app}statics/js/jquery.sgallery.js"></script>
<script type="text/javascript" src="{$app}statics/js/search_common.js"></script>
</head>
<body>
<div class="body-top">
    <div class="content">
        <div id="announ"><ul><li><a href="{$app}index.php?m=announce&c=index&a=init">网站公告</a></li></ul></div>
        <div class="login lh24 blue"><a href="{$app}index.php?m=member&c=index&a=login">登录</a> | <a href="{$app}index.php?m=member&c=index&a=register&siteid=1">注册</a></div>
    </div>
</div>
<div class="header">
    <div class="logo"><a href="{$app}"><img src="{$app}statics/images/v9/logo.jpg" /></a></div>
    <div class="search">
        <form action="{$app}index.php" method="get" target="_blank">
            <input type="hidden" name="m" value="search"/><input type="hidden" name="c" value="index"/><input type="hidden" name="a" value="init"/>
            <input type="text" name="q" id="q"/><input type="submit" value="搜 索" class="button" />
        </form>
    </div>
    <div class="bk3"></div>
    <div class="nav-bar">
        <map><ul class="nav-site"><li><a href="{$app}"><span>首页</span></a></li><li class="line">|</li>{$nav}</ul></map>
    </div>
</div>

HTML;
}

function pc_footer(): string
{
    $name = h(cms_site()['name']);
    return <<<HTML
<div class="footer">
<p class="info">
<a href="http://fl.bl.gov.cn/">关于我们</a> | <a href="http://fl.bl.gov.cn/">联系方式</a> | <a href="http://fl.bl.gov.cn/">版权声明</a><br />
Powered by <strong><a href="http://www.phpcms.cn" target="_blank">PHPCMS</a></strong> <em>v9</em> &copy; 2013 {$name} <img src="/statics/images/copyright.gif"/>
</p>
</div>
<script type="text/javascript">$(function(){ $(".picbig").each(function(i){ }); })</script>
</body>
</html>
HTML;
}

/* pages() of phpcms/libs/functions/global.func.php: $curr 1-based */
function pc_pages(int $num, int $curr, int $per, callable $url): string
{
    if ($num <= $per) {
        return '';
    }
    $pages = (int)ceil($num / $per);
    $out = '<a class="a1">' . $num . '条</a>';
    $out .= ' <a href="' . $url(max(1, $curr - 1)) . '" class="a1">上一页</a>';
    $out .= $curr == 1 ? ' <span>1</span>' : ' <a href="' . $url(1) . '">1</a>';
    for ($i = 2; $i <= $pages - 1; $i++) {
        $out .= $i != $curr ? ' <a href="' . $url($i) . '">' . $i . '</a>' : ' <span>' . $i . '</span>';
    }
    if ($curr < $pages) {
        $out .= ' <a href="' . $url($pages) . '">' . $pages . '</a> <a href="' . $url($curr + 1) . '" class="a1">下一页</a>';
    } else {
        $out .= ' <span>' . $pages . '</span> <a href="' . $url($curr) . '" class="a1">下一页</a>';
    }
    return $out;
}

function pc_crumbs(string $catid, string $tail): string
{
    $name = cms_site()['categories'][$catid] ?? cms_site()['page']['title'];
    return '<div class="crumbs"><a href="' . APP_PATH . '">首页</a><span> &gt; </span><a href="' . pc_lists_url($catid) . '">'
        . h($name) . '</a> &gt;  ' . $tail . '</div>';
}

function pc_message(string $msg): void
{
    pc_send("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
        . "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gbk\" />"
        . "<title>提示信息</title></head><body><div class=\"showMsg\" style=\"text-align:center\"><h5>提示信息</h5>"
        . "<div class=\"content guery\" style=\"display:inline-block;\">" . h($msg) . "</div><div class=\"bottom\">"
        . "<a href=\"javascript:history.back();\" >[点这里返回上一页]</a></div></div></body></html>");
}

function pc_articles(string $catid): array
{
    return array_values(array_filter(cms_site()['articles'], fn($a) => $a['catid'] === $catid));
}

function pc_lists(string $catid, int $page): void
{
    $site = cms_site();
    if ($catid === $site['page']['catid']) {
        $p = $site['page'];
        pc_send(pc_header(h($p['title']) . ' - ' . h($site['name'])) . '<div class="main">' . "\n\t<div class=\"col-left\">\n\t\t"
            . pc_crumbs($catid, '') . "\n\t\t<div id=\"Article\">\n\t\t\t<h1>" . h($p['title']) . "</h1>\n\t\t\t<div class=\"content\">\n"
            . $p['content'] . "\n\t\t\t</div>\n\t\t</div>\n\t</div>\n</div>\n" . pc_footer());
        return;
    }
    if (!isset($site['categories'][$catid])) {
        pc_message('栏目不存在！');
        return;
    }
    $rows = pc_articles($catid);
    $per = (int)$site['per_page'];
    $page = max(1, $page);
    $lis = '';
    foreach (array_slice($rows, ($page - 1) * $per, $per) as $n => $a) {
        $lis .= "\n\t\t\t<li><span class=\"rt\">" . $a['inputtime'] . '</span>·<a href="' . pc_show_url($catid, $a['id'])
            . '" target="_blank">' . h($a['title']) . '</a></li>';
        if (($n + 1) % 5 == 0) {
            $lis .= "\n\t\t\t<li class=\"bk20 hr\"><hr /></li>";
        }
    }
    $pages = pc_pages(count($rows), $page, $per, fn($k) => pc_lists_url($catid, $k));
    $name = h($site['categories'][$catid]);
    pc_send(pc_header("$name - " . h($site['name'])) . "<div class=\"main\">\n\t<div class=\"col-left\">\n\t\t"
        . pc_crumbs($catid, '列表') . "\n\t\t<ul class=\"list lh24 f14\">$lis\n\t\t</ul>\n\t\t<div id=\"pages\" class=\"text-c\">$pages</div>"
        . "\n\t</div>\n\t<div class=\"col-auto\"><div class=\"box\"><h5 class=\"title-2\">频道总排行</h5></div></div>\n</div>\n"
        . pc_footer());
}

function pc_show(string $catid, int $id, int $page): void
{
    $site = cms_site();
    $rows = pc_articles($catid);
    foreach ($rows as $i => $a) {
        if ($a['id'] !== $id) {
            continue;
        }
        $parts = $a['parts'];
        $page = min(max(1, $page), count($parts));
        $pages = count($parts) > 1 ? pc_pages(count($parts), $page, 1, fn($k) => pc_show_url($catid, $id, $k)) : '';
        $older = $rows[$i + 1] ?? null;
        $newer = $i > 0 ? $rows[$i - 1] : null;
        $prev = $older ? '<a href="' . pc_show_url($catid, $older['id']) . '">' . h($older['title']) . '</a>' : '第一页';
        $next = $newer ? '<a href="' . pc_show_url($catid, $newer['id']) . '">' . h($newer['title']) . '</a>' : '最后一页';
        $title = h($a['title']);
        pc_send(pc_header("$title - " . h($site['categories'][$catid]) . ' - ' . h($site['name']))
            . "<div class=\"main\">\n\t<div class=\"col-left\">\n    \t" . pc_crumbs($catid, '正文') . "\n        <div id=\"Article\">\n"
            . "        \t<h1>$title<br />\n<span>{$a['inputtime']}&nbsp;&nbsp;&nbsp;来源：" . h($a['copyfrom'])
            . "&nbsp;&nbsp;&nbsp;评论：<a href=\"#comment_iframe\" id=\"comment\">0</a> 点击：</span><span id=\"hits\"></span></h1>\n"
            . "\t\t\t<div class=\"content\">\n" . $parts[$page - 1] . "\n\t\t\t</div>\n"
            . "\t\t\t<div id=\"pages\" class=\"text-c\">$pages</div>\n"
            . "            <p class=\"f14\">\n                <strong>上一篇：</strong>$prev<br />\n"
            . "                <strong>下一篇：</strong>$next\n            </p>\n      </div>\n  </div>\n</div>\n"
            . '<script language="JavaScript" src="' . APP_PATH . 'api.php?op=count&id=' . $id . "&modelid=1\"></script>\n"
            . pc_footer());
        return;
    }
    pc_message('抱歉，您要访问的信息不存在或者已被删除！');
}

function pc_home(): void
{
    $site = cms_site();
    $boxes = '';
    foreach ($site['categories'] as $catid => $name) {
        $lis = '';
        foreach (array_slice(pc_articles((string)$catid), 0, 5) as $a) {
            $lis .= '<li>·<a href="' . pc_show_url((string)$catid, $a['id']) . '" target="_blank" title="' . h($a['title']) . '">'
                . h(mb_strimwidth($a['title'], 0, 40, '...', 'UTF-8')) . "</a></li>\n";
        }
        $boxes .= '<div class="box cat-area"><h5 class="title-1">' . h($name) . '<a href="' . pc_lists_url((string)$catid)
            . "\" class=\"more\">更多&gt;&gt;</a></h5><ul class=\"content list f14 lh24\">\n$lis</ul></div>\n";
    }
    pc_send(pc_header(h($site['name'])) . "<div class=\"main\">\n$boxes</div>\n" . pc_footer());
}

// --- routing ------------------------------------------------------------------------------------
switch ($path) {
    case '/robots.txt':
        cms_send("#\n# robots.txt for PHPCMS v9\n#\n\nUser-agent: * \nDisallow: /caches\nDisallow: /phpcms\n"
            . "Disallow: /install\nDisallow: /phpsso_server\nDisallow: /api\nDisallow: /admin.php\n", 'text/plain');
        return true;
    case '/api.php':
        if (($_GET['op'] ?? '') === 'count') {
            $n = cms_count('id:' . (int)($_GET['id'] ?? 0) . ':modelid:' . (int)($_GET['modelid'] ?? 0));
            cms_send("\$('#todaydowns').html('$n');\$('#weekdowns').html('$n');\$('#monthdowns').html('$n');\$('#hits').html('$n');",
                'application/javascript');
        } else {
            cms_send('', 'text/html');
        }
        return true;
    case '/':
    case '/index.php':
        $m = $_GET['m'] ?? 'content';
        $a = $_GET['a'] ?? 'init';
        if ($m === 'content' && ($_GET['c'] ?? 'index') === 'index' && $a === 'lists') {
            pc_lists((string)(int)($_GET['catid'] ?? 0), (int)($_GET['page'] ?? 1));
        } elseif ($m === 'content' && ($_GET['c'] ?? 'index') === 'index' && $a === 'show') {
            pc_show((string)(int)($_GET['catid'] ?? 0), (int)($_GET['id'] ?? 0), (int)($_GET['page'] ?? 1));
        } elseif ($m === 'content' && $a === 'init') {
            pc_home();
        } else {
            pc_message('模块不存在或已关闭！');
        }
        return true;
}
if (preg_match('#^/statics/(css|js|images)/#', $path)) {
    $ext = strtolower(pathinfo($path, PATHINFO_EXTENSION));
    if (in_array($ext, ['css', 'js'], true)) {
        cms_send('/* PHPCMS v9 statics */', CMS_TYPES[$ext]);
    } else {
        cms_send(base64_decode('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=='), 'image/gif');
    }
    return true;
}
if (strncmp($path, '/uploadfile/', 12) === 0 && cms_static(cms_data_dir(), $path)) {
    return true;
}
cms_apache_404($path);
return true;
