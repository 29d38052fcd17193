#!/usr/bin/env bash
# Install everything the gateway and its tests need on Debian 12: the Debian packages of the
# fixture subsites, then a virtualenv in .venv with the project and its test extra.
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")"

# php: the PHP fixture subsite; mono: the ASP.NET WebForms fixture (System.Web hosted by our own
# C# program); chromium: JavaScript pages (scrapy-playwright drives the system browser);
# postgresql: the tests start a throwaway PostgreSQL server to run the store on it too;
# poppler-utils: pdftotext and pdfinfo read the text of PDF attachments (poppler-data: the CMaps
# of CID-keyed Chinese fonts, without which their text comes out empty); tesseract-ocr with
# tesseract-ocr-chi-sim: OCR of scanned PDF attachments (a site's opt-in); fonts-wqy-zenhei: a CJK
# font the fixtures render their scanned pages with; goaccess: the baseline bench/logs.py compares the
# access-log ingest with.
DEBIAN_PACKAGES=(php-cli php-sqlite3 php-mbstring chromium mono-runtime mono-mcs libmono-system-web4.0-cil libmono-i18n-cjk4.0-cil postgresql poppler-utils poppler-data tesseract-ocr tesseract-ocr-chi-sim fonts-wqy-zenhei goaccess)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    echo "bootstrap: python3 -m venv failed; installing python3-venv"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    rm -rf .venv
    "$PYTHON" -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test,bench,lint]'  # bench: the baselines bench/ compares against; lint: CI's checks
echo "bootstrap: ready ($(.venv/bin/python --version), $(php --version | head -n1 | cut -d' ' -f1-2))"
