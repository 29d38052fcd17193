<?php
/*
 * EmpireCMS 7 fixture (fixture_sites/cms_sites.py, site cxjd): the published static site in
 * $CMS_DATA_DIR/www (GBK) and EmpireCMS's dynamic scripts under /e/: the dynamic list
 * /e/action/ListInfo/?classid=N (0-based page=), the click counter /e/public/ViewClick/?classid=&id=
 * (every request counts, HEAD too), the search form's target and the member login script.
 *
 *   CMS_DATA_DIR=/path/to/data php -S 127.0.0.1:8080 -t fixture_sites/cms_php/empirecms fixture_sites/cms_php/empirecms/router.php
 */
require __DIR__ . '/../common.php';

$path = cms_path();
$www = cms_data_dir() . '/www';

function empire_listpage(int $page, int $pages, int $total, callable $url): string
{
    // [!--show.listpage--] of a dynamic list: 0-based $page
    $out = '<a title="总数">&nbsp;<b>' . $total . '</b> </a>&nbsp;&nbsp;';
    if ($page > 0) {
        $out .= '<a href="' . $url(0) . '">首页</a>&nbsp;<a href="' . $url($page - 1) . '">上一页</a>&nbsp;';
    }
    for ($k = 0; $k < $pages; $k++) {
        $out .= $k === $page ? '<b>' . ($k + 1) . '</b>&nbsp;' : '<a href="' . $url($k) . '">' . ($k + 1) . '</a>&nbsp;';
    }
    if ($page < $pages - 1) {
        $out .= '<a href="' . $url($page + 1) . '">下一页</a>&nbsp;<a href="' . $url($pages - 1) . '">尾页</a>';
    }
    return $out;
}

function empire_message(string $msg): void
{
    cms_send(cms_gbk("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">"
        . "<title>提示信息</title></head><body><table width='500' align='center' class='tableborder'><tr>"
        . "<td><b>提示信息</b></td></tr><tr><td height='80' align='center'>" . h($msg) . "<br><br>"
        . "<a href='javascript:history.go(-1)'>如果您的浏览器没有自动跳转，请点击这里</a></td></tr></table></body></html>"),
        'text/html');
}

switch ($path) {
    case '/e/public/ViewClick/':
    case '/e/public/ViewClick/index.php':
        $n = cms_count('classid:' . (int)($_GET['classid'] ?? 0) . ':id:' . (int)($_GET['id'] ?? 0));
        cms_send("document.write('" . $n . "');", 'application/javascript');
        return true;
    case '/e/action/ListInfo/':
    case '/e/action/ListInfo/index.php':
        $site = cms_site();
        $classid = (string)(int)($_GET['classid'] ?? 0);
        if (!isset($site['dynamic'][$classid])) {
            empire_message('此栏目不存在');
            return true;
        }
        $list = $site['dynamic'][$classid];
        $total = count($list['rows']);
        $per = (int)$site['per_page'];
        $pages = max(1, (int)ceil($total / $per));
        $page = max(0, (int)($_GET['page'] ?? 0));
        $url = function (int $k) use ($classid, $total): string {
            return '/e/action/ListInfo/index.php?page=' . $k . '&classid=' . $classid . '&totalnum=' . $total;
        };
        $rows = implode('', array_slice($list['rows'], $page * $per, $per));
        $pager = empire_listpage(min($page, $pages - 1), $pages, $total, $url);
        $html = str_replace(['<!--rows-->', '<!--pager-->'], [$rows, $pager], $list['shell']);
        cms_send(cms_gbk($html), 'text/html');
        return true;
    case '/e/search/':
    case '/e/search/index.php':
        empire_message('没有搜索到相关的内容');
        return true;
    case '/e/member/login/loginjs.php':
        cms_send(cms_gbk("document.write('<a href=\"/e/member/login/\">登录</a>');"), 'application/javascript');
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
