<?php
/*
 * PbootCMS fixture (fixture_sites/cms_sites.py, site kjj), 兼容模式 (url_rule_type 3) URLs:
 *   /?jgzn/  /?lxwm/          single pages (the column is its content: about.html)
 *   /?gzdt/  /?gzdt_2/ ...     lists (newslist.html; a page past the end shows the last page)
 *   /?gzdt/23.html            an article (news.html); ids are global
 *   /?member/login/           the member login page
 *   /core/qrcode.php?string=  the footer's QR code
 * Rendered from $CMS_DATA_DIR/site.json in UTF-8; /static/upload/ from $CMS_DATA_DIR; /template/default/
 * resources from this folder.
 *
 *   CMS_DATA_DIR=/path/to/data php -S 127.0.0.1:8080 -t fixture_sites/cms_php/pbootcms fixture_sites/cms_php/pbootcms/router.php
 */
require __DIR__ . '/../common.php';

$path = cms_path();

function pboot_head(string $title, string $current): string
{
    $site = cms_site();
    $nav = '';
    foreach ($site['nav'] as [$scode, $name]) {
        $active = $scode === $current ? 'active' : '';
        $nav .= "\n\t              <li class=\"nav-item\">\n\t                <a class=\"nav-link $active\" href=\"/?$scode/\">"
            . h($name) . "</a>\n\t              </li>";
    }
    $home = $current === '' ? 'active' : '';
    return <<<HTML
<!doctype html>
<html lang="zh">
<head>
	<meta charset="utf-8">
	<title>{$title}</title>
	<meta name="keywords" content="{$site['name']}">
	<meta name="description" content="{$site['name']}">
	<meta name="viewport" content="width=device-width,initial-scale=1,minimum-scale=1,maximum-scale=1,shrink-to-fit=no">
	<link rel="stylesheet" href="/template/default/bootstrap/css/bootstrap.min.css?v=5.3.8" >
	<link rel="stylesheet" href="/template/default/css/aoyun.css?v=v1.3.6" >
	<link rel="shortcut icon" href="/favicon.ico" type="image/x-icon">
	<script src="/template/default/js/jquery-3.7.1.min.js" ></script>
</head>
<body>

<!-- 头部导航 -->
<nav class="navbar bg-light fixed-top navbar-expand-lg shadow-sm">
  <div class="container">
	  	<a class="navbar-brand my-1" href="/">
	      <img src="/static/upload/image/20180412/1523501459462835.jpg" class="logo-sm-height"  height="50">
	    </a>
	    <div class="collapse navbar-collapse justify-content-end" id="navbarNav">
	        <ul class="navbar-nav">
	       	  <li class="nav-item">
				 <a class="nav-link {$home}" href="/" >首页</a>
	          </li>{$nav}
	      </ul>
	      <span class="navbar-text">
				<a class="text-secondary" href="/?member/login/" >登录</a>
	      </span>
	    </div>
    </div>
</nav>
<div style="height:71px;" class="head-sm-height"></div>

HTML;
}

function pboot_top(string $name): string
{
    return "<div class=\"page-top mb-2\" style=\"background:#e9ecef url(/static/upload/image/20180412/1523501459462835.jpg);"
        . "background-size:cover;no-repeat\">\n  <div class=\"container text-light\">\n    <h1 class=\"fs-18 fs-sm-26 wow fadeInDown\">"
        . h($name) . "</h1>\n    <p class=\"fs-14  fs-sm-18 wow fadeInDown\"></p>\n  </div>\n</div>\n";
}

function pboot_position(string $scode, string $name): string
{
    return "<div class=\"text-end position mb-3 d-none d-md-block\">当前位置：<a href=\"/\">首页</a> &gt; "
        . "<a href=\"/?$scode/\">" . h($name) . "</a></div>\n";
}

function pboot_foot(): string
{
    $site = cms_site();
    $name = h($site['name']);
    return <<<HTML

<div class="footer mt-3 pt-5 border-top text-secondary bg-light">
	<div class="container">
    	<div class="row pb-5">
            <div class="col-12 col-md-5">
            	<h5>{$name}</h5>
                <ul class="lh-2">
                    <li>备案号码：<a href="http://beian.miit.gov.cn/" target="_blank">浙ICP备05011234号</a> </li>
                    <li>地址：北仑区新碶街道长江路1166号 </li>
                </ul>
            </div>
            <div class="col-12 col-md-5">
            	<h5>联系我们</h5>
                <ul class="lh-2">
                    <li>电话：0574-86781234 </li>
                    <li>邮箱：kjj@bl.gov.cn </li>
                </ul>
            </div>
            <div class="col-12 col-md-2 text-center d-none d-md-block">
            	<p class="code"><img src="/core/qrcode.php?string=http%3A%2F%2Fkjj.bl.gov.cn%2F" class="qrcode" alt="二维码"></p>
                <p class="small">扫一扫 手机访问</p>
            </div>
        </div>
	</div>
    <div class="copyright border-top lh-3 text-center  d-none d-md-block">
    	Copyright © 2024 {$name} All Rights Reserved.
    </div>
</div>
<script src="/template/default/bootstrap/js/bootstrap.min.js"></script>
<script src="/template/default/js/aoyun.js?v=v1.2.2"></script>
<script>
//ajax提交表单
function subform(obj){
  var url='/?form/2/';
  var tel=$(obj).find("#tel").val();
  $.ajax({
    type: 'POST',
    url: url,
    dataType: 'json',
    data: { tel: tel },
    success: function (response, status) { if(response.code){ alert("您的来电已收到，我们会尽快联系您！"); } else { alert(response.data); } },
    error:function(xhr,status,error){ alert('返回数据异常！'); }
  });
  return false;
}
</script>
</body>
</html>
HTML;
}

/* [list:title lencn=N]: N characters, then ··· when cut */
function pboot_cut(string $title, int $n): string
{
    return mb_strlen($title, 'UTF-8') > $n ? mb_substr($title, 0, $n, 'UTF-8') . '···' : $title;
}

function pboot_page_url(string $scode, $page): string
{
    if ($page === '') {
        return 'javascript:;';
    }
    return $page == 1 ? "/?$scode/" : "/?{$scode}_{$page}/";
}

function pboot_pagebar(string $scode, int $page, int $pages): string
{
    // comm/page.html over core/view/Paging.php: 5 numbers, ··· around them when there are more
    $total = 5;
    $halfl = intdiv($total, 2);
    $halfu = (int)ceil($total / 2);
    $nums = '';
    if ($page > $halfu && $pages > $total) {
        $nums .= '<span class="page-num">···</span>';
    }
    if ($page <= $halfl || $pages < $total) {
        $from = 1;
        $to = min($total, $pages);
    } elseif ($page + $halfl >= $pages) {
        $from = $pages - $total + 1;
        $to = $pages;
    } else {
        $from = $page - $halfl;
        $to = $page + $halfl;
    }
    for ($i = $from; $i <= $to; $i++) {
        $cls = $i === $page ? 'page-num page-num-current' : 'page-num';
        $nums .= '<a href="' . pboot_page_url($scode, $i) . '" class="' . $cls . '">' . $i . '</a>';
    }
    if ($pages > $total && $page < $pages - $halfl) {
        $nums .= '<span class="page-num">···</span>';
    }
    $pre = pboot_page_url($scode, $page > 1 ? $page - 1 : '');
    $next = pboot_page_url($scode, $page < $pages ? $page + 1 : '');
    $index = pboot_page_url($scode, 1);
    $last = pboot_page_url($scode, $pages);
    return <<<HTML
<!-- 分页 -->
   <nav aria-label="page navigation" class="my-4">
     <div class="pagination justify-content-center">
     	<a class="page-item page-link" href="{$index}">首页</a>
     	<a class="page-item page-link" href="{$pre}">上一页</a>
      	{$nums}<!-- 数字条，小屏幕时自动隐藏-->
      	<a class="page-item page-link" href="{$next}">下一页</a>
      	<a class="page-item page-link" href="{$last}">尾页</a>
     </div>
   </nav>
HTML;
}

function pboot_articles(string $scode): array
{
    return array_values(array_filter(cms_site()['articles'], fn($a) => $a['scode'] === $scode));
}

function pboot_404(): void
{
    $html = pboot_head('404 - ' . h(cms_site()['name']), '') . "<div class=\"container pages\"><div class=\"text-center my-5\">"
        . "<h2>404</h2><p>您访问的页面不存在，请核对后再试！</p></div></div>\n" . pboot_foot();
    cms_send($html, 'text/html; charset=utf-8', 404);
}

function pboot_list(string $scode, int $page): void
{
    $site = cms_site();
    $name = $site['columns'][$scode];
    $rows = pboot_articles($scode);
    $per = (int)$site['per_page'];
    $pages = max(1, (int)ceil(count($rows) / $per));
    $page = min(max(1, $page), $pages);
    $lis = '';
    foreach (array_slice($rows, ($page - 1) * $per, $per) as $a) {
        $lis .= "\n        \t<li class=\"lh-3 border-bottom-dashed\">\n                <i class=\"fa-brands fa-gg\"></i>\n"
            . "                <a href=\"/?$scode/{$a['id']}.html\">\n"
            . "                \t<span class=\"d-none d-md-inline\">" . h(pboot_cut($a['title'], 30)) . "</span><!-- PC端 -->\n"
            . "                \t<span class=\"d-inline d-md-none\">" . h(pboot_cut($a['title'], 11)) . "</span><!-- 移动端 -->\n"
            . "                \t<span class=\"float-end\">" . substr($a['date'], 0, 10) . "</span>\n"
            . "                </a>\n            </li>";
    }
    $html = pboot_head(h($name) . '-' . h($site['name']), $scode) . pboot_top($name)
        . "\n<div class=\"container pages\">    \n\n  \t " . pboot_position($scode, $name)
        . "\n\t <!-- 列表内容 -->\n     <ul>$lis\n    </ul>\n    \n\t" . pboot_pagebar($scode, $page, $pages)
        . "\n \t\n</div>\n" . pboot_foot();
    cms_send($html, 'text/html; charset=utf-8');
}

function pboot_news(string $scode, int $id): void
{
    $site = cms_site();
    $rows = pboot_articles($scode);
    foreach ($rows as $i => $a) {
        if ($a['id'] !== $id) {
            continue;
        }
        $name = $site['columns'][$scode];
        $older = $rows[$i + 1] ?? null;  // 上一篇: the one before it, by date
        $newer = $i > 0 ? $rows[$i - 1] : null;
        $pre = $older ? "<a href=\"/?$scode/{$older['id']}.html\">" . h($older['title']) . '</a>' : '没有了！';
        $next = $newer ? "<a href=\"/?$scode/{$newer['id']}.html\">" . h($newer['title']) . '</a>' : '没有了！';
        $html = pboot_head(h($a['title']) . '-' . h($site['name']), $scode) . pboot_top($name)
            . "\n<div class=\"container pages\">\n\n\t" . pboot_position($scode, $name)
            . "\n    <h2 class=\"text-center fs-sm-28 fs-20 mt-3\">" . h($a['title']) . "</h2>\n"
            . "    <div class=\"text-center border-bottom text-secondary pb-2 mb-3\">\n    \t  时间：" . substr($a['date'], 0, 10)
            . "&nbsp;&nbsp;&nbsp;访问量：" . ($a['visits'] + 1000) . "\n    </div>\n"
            . "\t<div class=\"content mb-3\">" . $a['content'] . "</div>\n"
            . "\t<div class=\"text-secondary lh-2\">\n\t\t<p>上一篇：$pre</p>\n\t\t<p>下一篇：$next</p>\n\t</div>\n</div>\n"
            . pboot_foot();
        cms_send($html, 'text/html; charset=utf-8');
        return;
    }
    pboot_404();
}

function pboot_about(string $scode): void
{
    $page = cms_site()['pages'][$scode];
    $html = pboot_head(h($page['name']) . '-' . h(cms_site()['name']), $scode) . pboot_top($page['name'])
        . "\n<div class=\"container pages\">\n\t" . pboot_position($scode, $page['name'])
        . "\t<h2 class=\"text-center my-4 fs-sm-28 fs-24\">" . h($page['name']) . "</h2>\n"
        . "\t<div class=\"content\">" . $page['content'] . "</div>\n</div>\n" . pboot_foot();
    cms_send($html, 'text/html; charset=utf-8');
}

function pboot_home(): void
{
    $site = cms_site();
    $boxes = '';
    foreach ($site['columns'] as $scode => $name) {
        $lis = '';
        foreach (array_slice(pboot_articles($scode), 0, 5) as $a) {
            $lis .= "<li class=\"lh-3\"><a href=\"/?$scode/{$a['id']}.html\">" . h(pboot_cut($a['title'], 20))
                . "</a><span class=\"float-end\">" . substr($a['date'], 5, 5) . "</span></li>\n";
        }
        $boxes .= "<div class=\"col-12 col-md-4\"><h5><a href=\"/?$scode/\">" . h($name) . "</a></h5><ul>\n$lis</ul>"
            . "<a href=\"/?$scode/\" class=\"more\">更多</a></div>\n";
    }
    $html = pboot_head(h($site['name']), '') . "<div class=\"container\"><div class=\"row\">\n$boxes</div></div>\n" . pboot_foot();
    cms_send($html, 'text/html; charset=utf-8');
}

// --- routing ------------------------------------------------------------------------------------
if ($path === '/robots.txt') {
    cms_send("User-agent: *\nDisallow: /admin.php\nDisallow: /?member/\n", 'text/plain');
    return true;
}
if ($path === '/core/qrcode.php') {
    cms_send(base64_decode('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=='), 'image/gif');
    return true;
}
if (strncmp($path, '/static/upload/', 15) === 0) {
    if (cms_static(cms_data_dir(), $path)) {
        return true;
    }
    cms_apache_404($path);
    return true;
}
if (strncmp($path, '/template/default/', 18) === 0) {
    if (preg_match('#\.(css|js)$#', $path)) {
        cms_send('/* PbootCMS default template */', substr($path, -3) === '.js' ? 'application/javascript' : 'text/css');
        return true;
    }
    cms_apache_404($path);
    return true;
}
if ($path !== '/' && $path !== '/index.php') {
    cms_apache_404($path);
    return true;
}
// the first query parameter is the route: "gzdt/", "gzdt_2/", "gzdt/23.html", "member/login/"
$qs = $_SERVER['QUERY_STRING'] ?? '';
$route = rawurldecode(explode('&', $qs, 2)[0]);
$site = cms_site();
if ($route === '') {
    pboot_home();
} elseif ($route === 'member/login/') {
    cms_send(pboot_head('会员登录-' . h($site['name']), '') . "<div class=\"container pages\"><form method=\"post\" "
        . "action=\"/?member/login/\"><input name=\"username\"><input type=\"password\" name=\"password\">"
        . "<button type=\"submit\">登录</button></form></div>\n" . pboot_foot(), 'text/html; charset=utf-8');
} elseif (preg_match('#^([a-z]+)/(\d+)\.html$#', $route, $m) && isset($site['columns'][$m[1]])) {
    pboot_news($m[1], (int)$m[2]);
} elseif (preg_match('#^([a-z]+)(?:_(\d+))?/?$#', $route, $m) && isset($site['columns'][$m[1]])) {
    pboot_list($m[1], isset($m[2]) ? (int)$m[2] : 1);
} elseif (preg_match('#^([a-z]+)/?$#', $route, $m) && isset($site['pages'][$m[1]])) {
    pboot_about($m[1]);
} else {
    pboot_404();
}
return true;
