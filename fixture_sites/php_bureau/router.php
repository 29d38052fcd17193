<?php
/*
 * Router for PHP's built-in web server:
 *
 *   RSJ_DATA_DIR=/path/to/data php -S 127.0.0.1:8080 -t fixture_sites/php_bureau fixture_sites/php_bureau/router.php
 *
 * Pages: / and /index.php, /list.php, /show.php, /admin/ (login; disallowed in robots.txt).
 * Static: /robots.txt, /css/, /js/, /images/ from this directory; /uploadfile/... from $RSJ_DATA_DIR.
 * Anything else gets the site's 404 page.
 */
$path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');

const UPLOAD_TYPES = [
    'pdf' => 'application/pdf',
    'doc' => 'application/msword',
    'docx' => 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'xls' => 'application/vnd.ms-excel',
    'xlsx' => 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'jpg' => 'image/jpeg',
    'gif' => 'image/gif',
    'zip' => 'application/zip',
    'rar' => 'application/x-rar-compressed',
];

function serve_file(string $file, string $type): void
{
    ini_set('default_charset', '');
    header('Content-Type: ' . $type);
    header('Content-Length: ' . filesize($file));
    header('Accept-Ranges: none');
    if ($_SERVER['REQUEST_METHOD'] !== 'HEAD') {
        readfile($file);
    }
}

switch ($path) {
    case '/':
    case '/index.php':
        require __DIR__ . '/index.php';
        return true;
    case '/list.php':
        require __DIR__ . '/list.php';
        return true;
    case '/show.php':
        require __DIR__ . '/show.php';
        return true;
    case '/admin':
    case '/admin/':
    case '/admin/index.php':
        require __DIR__ . '/admin/index.php';
        return true;
    case '/robots.txt':
        serve_file(__DIR__ . '/robots.txt', 'text/plain');
        return true;
}

if (strncmp($path, '/uploadfile/', 12) === 0) {
    require_once __DIR__ . '/inc/common.php';
    $root = realpath(data_dir() . '/uploadfile');
    $file = $root ? realpath($root . substr($path, strlen('/uploadfile'))) : false;
    $ext = strtolower(pathinfo($path, PATHINFO_EXTENSION));
    if ($file === false || strncmp($file, $root . '/', strlen($root) + 1) !== 0 || !is_file($file) || !isset(UPLOAD_TYPES[$ext])) {
        not_found();
    }
    serve_file($file, UPLOAD_TYPES[$ext]);
    return true;
}

if (preg_match('#^/(css|js|images)/[A-Za-z0-9_.-]+$#', $path) && is_file(__DIR__ . $path)) {
    return false;   // let the built-in server send the static file
}

require_once __DIR__ . '/inc/common.php';
not_found();
