#!/usr/bin/env bash
# Install the Debian 12 packages Trove needs to build, run and test.
# Tauri/WebKitGTK build deps, Xvfb + WebKitWebDriver (end-to-end tests), Chromium (UI tests),
# poppler-utils/qpdf (PDF fixtures and the pdftotext reference in `trove-bench`),
# ghostscript/python3-cairo (PDFs from more real producers in tests/pdf.rs),
# python3-gi/GTK + xdotool (a real OS drag-and-drop in the end-to-end test),
# tesseract-ocr (OCR of scans and images; poppler's pdftoppm renders the pages),
# LibreOffice without its GUI (reads old .doc/.ppt for Trove; makes the office fixtures and
# is the reference in `trove-bench --only h`).
# Idempotent; uses sudo when not root.
set -euo pipefail
PKGS=(
  build-essential pkg-config curl wget file unzip
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth webkit2gtk-driver
  chromium chromium-driver
  poppler-utils qpdf ghostscript python3-cairo
  tesseract-ocr tesseract-ocr-eng
  python3-gi gir1.2-gtk-3.0 xdotool
  libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "system packages: all present"
  exit 0
fi
SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=900 update -qq
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}"
