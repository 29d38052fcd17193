<?php
/* 首页 */
require_once __DIR__ . '/inc/common.php';

$newest = db()->prepare('SELECT id, title, published_at FROM article WHERE catid = ? ORDER BY published_at DESC, id DESC LIMIT 5');
$latest = db()->query('SELECT id, title FROM article ORDER BY published_at DESC, id DESC LIMIT 3')->fetchAll();

gbk_begin('text/html; charset=GBK');
page_head(SITE_NAME);
page_top(0);
?>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="notice_bar">
  <tr>
    <td width="90" class="notice_label">最新信息：</td>
    <td><marquee scrollamount="3" onmouseover="this.stop()" onmouseout="this.start()">
<?php foreach ($latest as $row): ?>
      <a href="show.php?id=<?= (int)$row['id'] ?>" target="_blank"><?= h($row['title']) ?></a>&nbsp;&nbsp;&nbsp;&nbsp;
<?php endforeach; ?>
    </marquee></td>
  </tr>
</table>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="main">
  <tr>
    <td width="320" valign="top" class="pic_news">
      <div class="box_title"><span>图片新闻</span></div>
      <div class="pic_box"><img src="/images/pic_news.gif" width="300" height="200" alt="图片新闻" onclick="window.open('list.php?catid=3')" style="cursor:pointer" /></div>
      <div class="box_title"><span>领导之窗</span></div>
      <ul class="leaders">
        <li><a href="javascript:void(0)" onclick="alert('局长：负责局全面工作。')">局　长</a></li>
        <li><a href="javascript:void(0)" onclick="alert('副局长：分管就业、培训工作。')">副局长</a></li>
        <li><a href="javascript:void(0)" onclick="alert('副局长：分管社会保险工作。')">副局长</a></li>
      </ul>
    </td>
    <td valign="top">
<?php foreach (categories() as $cid => $cat): ?>
      <div class="index_box">
        <div class="box_title"><span><?= h($cat['catname']) ?></span><a href="list.php?catid=<?= $cid ?>" class="more">更多&gt;&gt;</a></div>
        <ul class="index_list">
<?php $newest->execute([$cid]); foreach ($newest->fetchAll() as $row): ?>
          <li><span class="date"><?= fmt_dt($row['published_at'], 'm-d') ?></span><a href="show.php?id=<?= (int)$row['id'] ?>" title="<?= h($row['title']) ?>" target="_blank"><?= h(cut_title($row['title'], 24)) ?></a></li>
<?php endforeach; ?>
        </ul>
      </div>
<?php endforeach; ?>
    </td>
  </tr>
</table>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="links">
  <tr>
    <td class="box_title" width="90"><span>友情链接</span></td>
    <td>
      <a href="http://www.ningbo.gov.cn" target="_blank">中国宁波</a>
      <a href="http://www.bl.gov.cn" target="_blank">北仑之窗</a>
      <a href="http://www.mohrss.gov.cn" target="_blank">人力资源和社会保障部</a>
      <a href="http://rlsbt.zj.gov.cn" target="_blank">浙江省人力社保厅</a>
      <a href="http://rsj.ningbo.gov.cn" target="_blank">宁波市人力社保局</a>
      <select name="select" onchange="if(this.value!='')window.open(this.value);">
        <option value="" selected="selected">--区级部门网站--</option>
        <option value="http://qzfb.bl.gov.cn">区政府办</option>
        <option value="http://fgj.bl.gov.cn">区发改局</option>
        <option value="http://jyj.bl.gov.cn">区教育局</option>
      </select>
    </td>
  </tr>
</table>
<?php
page_foot();
ob_end_flush();
