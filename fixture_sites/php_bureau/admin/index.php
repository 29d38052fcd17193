<?php
/* 后台登录（禁止抓取，见 robots.txt） */
require_once __DIR__ . '/../inc/common.php';
gbk_begin('text/html; charset=GBK');
?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />
<meta name="robots" content="noindex,nofollow" />
<title>网站管理系统 - 用户登录</title>
</head>
<body>
<form action="/admin/index.php" method="post">
  <table align="center" style="margin-top:120px" cellpadding="6">
    <tr><td colspan="2" align="center"><strong><?= SITE_NAME ?>网站管理系统</strong></td></tr>
    <tr><td>用户名：</td><td><input type="text" name="username" /></td></tr>
    <tr><td>密　码：</td><td><input type="password" name="password" /></td></tr>
    <tr><td colspan="2" align="center"><input type="submit" value="登 录" /></td></tr>
<?php if ($_SERVER['REQUEST_METHOD'] === 'POST'): ?>
    <tr><td colspan="2" align="center" style="color:red">用户名或密码错误！</td></tr>
<?php endif; ?>
  </table>
</form>
</body>
</html>
<?php
ob_end_flush();
