<?php
/*
 * Shared by the four CMS fixture routers (see fixture_sites/cms_sites.py): the data folder
 * ($CMS_DATA_DIR, written by the Python generator), its site.json, the view counters
 * (counters.json, updated under a lock: every request counts, HEAD included), raw responses
 * and static files served the way Apache serves them (no charset in Content-Type for .html).
 */

const CMS_TYPES = [
    'html' => 'text/html', 'htm' => 'text/html', 'css' => 'text/css', 'js' => 'application/javascript',
    'gif' => 'image/gif', 'jpg' => 'image/jpeg', 'png' => 'image/png', 'xml' => 'text/xml', 'txt' => 'text/plain',
    'pdf' => 'application/pdf', 'doc' => 'application/msword', 'xls' => 'application/vnd.ms-excel',
    'docx' => 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'xlsx' => 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'zip' => 'application/zip',
];

function cms_data_dir(): string
{
    $dir = getenv('CMS_DATA_DIR');
    if (!$dir || !is_dir($dir)) {
        cms_send("CMS_DATA_DIR is not set\n", 'text/plain', 500);
        exit;
    }
    return rtrim($dir, '/');
}

function cms_site(): array
{
    static $site = null;
    if ($site === null) {
        $site = json_decode(file_get_contents(cms_data_dir() . '/site.json'), true);
    }
    return $site;
}

/* Add one hit to the counter $key; the new value. */
function cms_count(string $key): int
{
    $fp = fopen(cms_data_dir() . '/counters.json', 'c+');
    flock($fp, LOCK_EX);
    $raw = stream_get_contents($fp);
    $data = $raw ? json_decode($raw, true) : [];
    $data['count'][$key] = ($data['count'][$key] ?? 0) + 1;
    ftruncate($fp, 0);
    rewind($fp);
    fwrite($fp, json_encode($data));
    fflush($fp);
    flock($fp, LOCK_UN);
    fclose($fp);
    return $data['count'][$key];
}

function cms_send(string $body, string $type, int $status = 200, array $headers = []): void
{
    ini_set('default_charset', '');
    http_response_code($status);
    header('Content-Type: ' . $type);
    foreach ($headers as $line) {
        header($line);
    }
    header('Content-Length: ' . strlen($body));
    if ($_SERVER['REQUEST_METHOD'] !== 'HEAD') {
        echo $body;
    }
}

function cms_gbk(string $utf8): string
{
    return mb_convert_encoding($utf8, 'CP936', 'UTF-8');
}

function h(?string $s): string
{
    return htmlspecialchars((string)$s, ENT_QUOTES, 'UTF-8');
}

/* The request path, URL-decoded, and whether it tries to leave the document root. */
function cms_path(): string
{
    $path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');
    if (strpos($path, "\0") !== false || strpos($path, '..') !== false) {
        return '/..';
    }
    return $path;
}

/*
 * Serve $path from $root as Apache would: a directory without its slash is a 301, a directory is its
 * index.html, a file gets its type (no charset). False when there is no such file.
 */
function cms_static(string $root, string $path): bool
{
    $target = $root . $path;
    if (is_dir($target)) {
        if (substr($path, -1) !== '/') {
            cms_send('', 'text/html', 301, ['Location: ' . $path . '/']);
            return true;
        }
        $target .= 'index.html';
    }
    $ext = strtolower(pathinfo($target, PATHINFO_EXTENSION));
    if (!is_file($target) || !isset(CMS_TYPES[$ext])) {
        return false;
    }
    $stat = stat($target);
    cms_send(file_get_contents($target), CMS_TYPES[$ext], 200, [
        'Last-Modified: ' . gmdate('D, d M Y H:i:s', $stat['mtime']) . ' GMT', 'Accept-Ranges: bytes']);
    return true;
}

function cms_apache_404(string $path): void
{
    cms_send("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n"
        . "</head><body>\n<h1>Not Found</h1>\n<p>The requested URL " . h($path) . " was not found on this server.</p>\n"
        . "</body></html>\n", 'text/html; charset=iso-8859-1', 404);
}
