<?php
/*
 * DedeCMS 5.7 fixture (fixture_sites/cms_sites.py, site kx): the published static site in
 * $CMS_DATA_DIR/www (GBK .html files, uploads, robots.txt, sitemap.xml) and DedeCMS's dynamic
 * scripts under /plus/: count.php (the click counter an article page loads as a script: every
 * request counts, HEAD too), and the search/favourite/recommend scripts the pages link to.
 *
 *   CMS_DATA_DIR=/path/to/data php -S 127.0.0.1:8080 -t fixture_sites/cms_php/dedecms fixture_sites/cms_php/dedecms/router.php
 */
require __DIR__ . '/../common.php';

$path = cms_path();
$www = cms_data_dir() . '/www';

function dede_message(string $msg): void
{
    cms_send(cms_gbk("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\" />"
        . "<title>DedeCMS提示信息</title></head><body><div style='width:450px;margin:80px auto;border:1px solid #DADADA'>"
        . "<div style='padding:6px;font-size:12px;background:#F3F3F3'><b>DedeCMS 提示信息！</b></div>"
        . "<div style='padding:20px;font-size:14px'>" . h($msg) . "<br /><a href='javascript:history.go(-1)'>"
        . "点击这里返回</a></div></div></body></html>"), 'text/html');
}

switch ($path) {
    case '/plus/count.php':
        $aid = (int)($_GET['aid'] ?? 0);
        $n = cms_count('aid:' . $aid);
        cms_send(isset($_GET['view']) ? "document.write('" . $n . "');\r\n" : '', 'application/javascript');
        return true;
    case '/plus/search.php':
    case '/plus/heightsearch.php':
        dede_message('关键字不能小于2个字节！');
        return true;
    case '/plus/stow.php':
    case '/plus/recommend.php':
        dede_message('你还没有登录，不能收藏或推荐文档！');
        return true;
    case '/tags.php':
        dede_message('系统无此标签，可能已经移除！');
        return true;
    case '/':
        $path = '/index.html';
        break;
}

if ($path !== '/..' && cms_static($www, $path)) {
    return true;
}
cms_apache_404($path);
return true;
