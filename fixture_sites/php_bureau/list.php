<?php
/* 栏目列表：list.php?catid=N&page=M，每页 15 条，按发布时间倒序 */
require_once __DIR__ . '/inc/common.php';

$catid = isset($_GET['catid']) && ctype_digit((string)$_GET['catid']) ? (int)$_GET['catid'] : 0;
$cats = categories();
if (!isset($cats[$catid])) {
    not_found();
}
$cat = $cats[$catid];

$st = db()->prepare('SELECT COUNT(*) FROM article WHERE catid = ?');
$st->execute([$catid]);
$total = (int)$st->fetchColumn();
$pages = max(1, (int)ceil($total / PER_PAGE));
$page = isset($_GET['page']) ? (int)$_GET['page'] : 1;
if ($page < 1) {
    $page = 1;
}
if ($page > $pages) {   // 超出末页时显示末页
    $page = $pages;
}

$st = db()->prepare('SELECT id, title, published_at FROM article WHERE catid = ? ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?');
$st->bindValue(1, $catid, PDO::PARAM_INT);
$st->bindValue(2, PER_PAGE, PDO::PARAM_INT);
$st->bindValue(3, ($page - 1) * PER_PAGE, PDO::PARAM_INT);
$st->execute();
$rows = $st->fetchAll();

function page_link(int $catid, int $p, string $label, bool $active): string
{
    return $active ? '<a href="list.php?catid=' . $catid . '&amp;page=' . $p . '">' . $label . '</a>' : $label;
}

gbk_begin('text/html; charset=GBK');
page_head($cat['catname'] . ' - ' . SITE_NAME);
page_top($catid);
?>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="main">
  <tr>
<?php sidebar($catid); ?>
    <td width="780" valign="top" class="right">
      <div class="lm_title"><span class="lm_name"><?= h($cat['catname']) ?></span><span class="position">当前位置：<a href="index.php">首页</a> &gt; <a href="list.php?catid=<?= $catid ?>"><?= h($cat['catname']) ?></a></span></div>
      <ul class="list">
<?php foreach ($rows as $row): ?>
        <li><img src="/images/dot.gif" width="4" height="7" alt="" /> <a href="show.php?id=<?= (int)$row['id'] ?>" title="<?= h($row['title']) ?>" target="_blank"><?= h(cut_title($row['title'])) ?></a><span class="date"><?= fmt_listdate($row['published_at'], $cat['date_style']) ?></span></li>
<?php endforeach; ?>
      </ul>
      <div class="pages">共 <?= $total ?> 条 每页 <?= PER_PAGE ?> 条 页次：<?= $page ?>/<?= $pages ?>&nbsp;
        <?= implode(' ', [page_link($catid, 1, '首页', $page > 1), page_link($catid, $page - 1, '上一页', $page > 1), page_link($catid, $page + 1, '下一页', $page < $pages), page_link($catid, $pages, '尾页', $page < $pages)]) . "\n" ?>
        转到 <select name="page" onchange="location.href='list.php?catid=<?= $catid ?>&amp;page='+this.value">
<?php for ($p = 1; $p <= $pages; $p++): ?>
          <option value="<?= $p ?>"<?= $p === $page ? ' selected="selected"' : '' ?>>第<?= $p ?>页</option>
<?php endfor; ?>
        </select>
      </div>
    </td>
  </tr>
</table>
<?php
page_foot();
ob_end_flush();
