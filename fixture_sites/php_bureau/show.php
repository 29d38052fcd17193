<?php
/* 文章详细页：show.php?id=N */
require_once __DIR__ . '/inc/common.php';

$id = isset($_GET['id']) && ctype_digit((string)$_GET['id']) ? (int)$_GET['id'] : 0;
$st = db()->prepare('SELECT * FROM article WHERE id = ?');
$st->execute([$id]);
$art = $st->fetch();
if (!$art) {
    not_found();
}
$catid = (int)$art['catid'];
$cat = categories()[$catid];

$st = db()->prepare('SELECT name, path FROM attachment WHERE article_id = ? ORDER BY sort');
$st->execute([$id]);
$attachments = $st->fetchAll();

// 上一篇 = newer neighbour in the column list, 下一篇 = older one
$st = db()->prepare('SELECT id, title FROM article WHERE catid = :c AND (published_at > :p OR (published_at = :p AND id > :i)) ORDER BY published_at ASC, id ASC LIMIT 1');
$st->execute([':c' => $catid, ':p' => $art['published_at'], ':i' => $id]);
$prev = $st->fetch();
$st = db()->prepare('SELECT id, title FROM article WHERE catid = :c AND (published_at < :p OR (published_at = :p AND id < :i)) ORDER BY published_at DESC, id DESC LIMIT 1');
$st->execute([':c' => $catid, ':p' => $art['published_at'], ':i' => $id]);
$next = $st->fetch();

// The detail template of this old CMS never sent a charset in the HTTP header; it relies on the meta tag,
// and an even older template (still used by some pages) has no charset declaration at all.
$metaCharset = ($id % 17 === 0) ? null : 'gb2312';
gbk_begin('text/html');
page_head($art['title'] . ' - ' . SITE_NAME, $metaCharset);
page_top($catid);

function neighbour(string $label, $row): string
{
    return $label . '：' . ($row ? '<a href="show.php?id=' . (int)$row['id'] . '">' . h($row['title']) . '</a>' : '没有了');
}
?>
<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0" class="main">
  <tr>
<?php sidebar($catid); ?>
    <td width="780" valign="top" class="right">
      <div class="position">当前位置：<a href="index.php">首页</a> &gt; <a href="list.php?catid=<?= $catid ?>"><?= h($cat['catname']) ?></a> &gt; 正文</div>
      <div class="article">
<?php if ((int)$cat['disclosure'] === 1): ?>
        <table class="xxgk_table" width="100%" border="0" cellspacing="1" cellpadding="4" bgcolor="#cccccc">
          <tr>
            <td class="xxgk_label" width="15%" bgcolor="#f5f5f5">索引号</td><td class="xxgk_value" width="35%" bgcolor="#ffffff"><?= h($art['index_number']) ?></td>
            <td class="xxgk_label" width="15%" bgcolor="#f5f5f5">发布机构</td><td class="xxgk_value" width="35%" bgcolor="#ffffff"><?= h($art['publisher']) ?></td>
          </tr>
          <tr>
            <td class="xxgk_label" bgcolor="#f5f5f5">主题分类</td><td class="xxgk_value" bgcolor="#ffffff"><?= h($art['topic']) ?></td>
            <td class="xxgk_label" bgcolor="#f5f5f5">成文日期</td><td class="xxgk_value" bgcolor="#ffffff"><?= $art['written_date'] ? fmt_dt($art['written_date'], 'Y年m月d日') : '' ?></td>
          </tr>
          <tr>
            <td class="xxgk_label" bgcolor="#f5f5f5">发文字号</td><td class="xxgk_value" bgcolor="#ffffff"><?= h($art['document_number']) ?></td>
            <td class="xxgk_label" bgcolor="#f5f5f5">发布日期</td><td class="xxgk_value" bgcolor="#ffffff"><?= fmt_dt($art['published_at'], 'Y年m月d日') ?></td>
          </tr>
<?php if ($art['validity'] !== null): ?>
          <tr>
            <td class="xxgk_label" bgcolor="#f5f5f5">有效性</td><td class="xxgk_value" bgcolor="#ffffff"><?= h($art['validity']) ?></td>
            <td class="xxgk_label" bgcolor="#f5f5f5">&nbsp;</td><td class="xxgk_value" bgcolor="#ffffff">&nbsp;</td>
          </tr>
<?php endif; ?>
        </table>
<?php endif; ?>
        <h1 class="title"><?= h($art['title']) ?></h1>
        <div class="info">发布时间：<?= fmt_pubtime($art['published_at'], (int)$art['pubtime_style']) ?>　来源：<?= h($art['source']) ?>　浏览次数：<script type="text/javascript">document.write("<?= (int)$art['hits'] ?>");</script></div>
        <div class="toolbar">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】 字号：<a href="javascript:doZoom(16)">大</a> <a href="javascript:doZoom(14)">中</a> <a href="javascript:doZoom(12)">小</a></div>
        <div id="zoom" class="content">
<?= $art['body'] /* rich text from the editor, stored as HTML */ ?>

        </div>
<?php if ($attachments): ?>
        <div class="attachment">附件：<br />
<?php foreach ($attachments as $att): ?>
          <img src="/images/attach.gif" alt="" /> <a href="<?= h($att['path']) ?>" target="_blank"><?= h($att['name']) ?></a><br />
<?php endforeach; ?>
        </div>
<?php endif; ?>
        <div class="prevnext">
          <?= neighbour('上一篇', $prev) ?><br />
          <?= neighbour('下一篇', $next) ?>
        </div>
        <div class="related">
          <div class="box_title"><span>相关链接</span></div>
          <ul>
            <li><a href="list.php?catid=<?= $catid ?>">更多<?= h($cat['catname']) ?></a></li>
            <li><a href="http://www.mohrss.gov.cn" target="_blank">人力资源和社会保障部</a></li>
            <li><a href="http://rlsbt.zj.gov.cn" target="_blank">浙江省人力资源和社会保障厅</a></li>
          </ul>
        </div>
      </div>
    </td>
  </tr>
</table>
<?php
page_foot();
ob_end_flush();
