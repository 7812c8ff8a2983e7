#!/usr/bin/env bash
# Install the system packages the tests and the PDF/PNG export need (Debian/Ubuntu):
# headless LibreOffice Calc and Writer (the report's PDF), poppler's pdftoppm and fonts that make rendered text legible.
# Idempotent: does nothing when soffice (or libreoffice) and pdftoppm are already on PATH.
set -euo pipefail

have_soffice() {
    command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1
}

have_writer() {
    # Writer's library beside soffice: Calc alone cannot export the report (.docx) to PDF.
    local program
    program="$(dirname "$(readlink -f "$(command -v soffice || command -v libreoffice)")")"
    [ -e "$program/libswlo.so" ]
}

if have_soffice && have_writer && command -v pdftoppm >/dev/null 2>&1; then
    echo "install-system-deps: LibreOffice ($(command -v soffice || command -v libreoffice)) and pdftoppm ($(command -v pdftoppm)) already installed."
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: apt-get not found; install LibreOffice (Calc) and poppler-utils by hand," >&2
    echo "or set XLMONITOR_SOFFICE to the soffice executable." >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-system-deps: not root and sudo is missing; cannot install packages." >&2
        exit 1
    fi
fi

"${SUDO[@]}" apt-get update

packages=(libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils)
# Fonts: DejaVu (fallback for everything), Liberation 2 (metric-compatible Arial/Times/Courier),
# Carlito (metric-compatible Calibri, the default font of XlsxWriter/openpyxl workbooks).
# Only those the configured archives actually offer, so the script also works on older releases.
for font in fonts-dejavu-core fonts-liberation2 fonts-crosextra-carlito; do
    if apt-cache show "$font" >/dev/null 2>&1; then
        packages+=("$font")
    else
        echo "install-system-deps: $font not available, skipping." >&2
    fi
done

echo "install-system-deps: installing ${packages[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${packages[@]}"

if ! have_soffice || ! command -v pdftoppm >/dev/null 2>&1; then
    echo "install-system-deps: installation finished but soffice or pdftoppm is still not on PATH." >&2
    exit 1
fi
echo "install-system-deps: done ($(soffice --version 2>/dev/null | head -n 1 || true))."
