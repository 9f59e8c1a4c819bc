#!/usr/bin/env bash
# Render the HTML reports of a quarterly run to PNG with headless Chromium, to look
# at them as a reader would. Not run by CI. Needs Debian's chromium
# (apt-get install -y chromium).
#
#   scripts/screenshots.sh [RUNDIR] [OUTDIR]
#
# RUNDIR: a run directory such as reports/2024Q2 (default: the newest under reports/).
# OUTDIR: where the PNGs go (default: RUNDIR/png). Each page is rendered 1280 px
# wide and cut into parts of at most 1800 px high (<name>-1.png, <name>-2.png, ...),
# trailing white space removed. HEIGHT sets the render height (default 16000 px).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-$(ls -d reports/*/ 2>/dev/null | sort | tail -1)}
RUN=${RUN%/}
[ -n "$RUN" ] && [ -d "$RUN" ] || { echo "geen rapportmap gevonden; draai eerst 'jeugdlib reports'" >&2; exit 2; }
OUT=${2:-$RUN/png}
BROWSER=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$BROWSER" ] || { echo "chromium niet gevonden: apt-get install -y chromium" >&2; exit 2; }
PY=${PYTHON:-.venv/bin/python}
mkdir -p "$OUT"
find "$RUN" -name '*.html' -not -path "$OUT/*" | sort | while read -r f; do
  rel=${f#"$RUN"/}
  name=$(echo "${rel%.html}" | tr '/' '_')
  tmp="$OUT/.$name.full.png"
  "$BROWSER" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --window-size=1280,"${HEIGHT:-16000}" --screenshot="$tmp" "file://$(realpath "$f")" >/dev/null 2>&1
  "$PY" - "$tmp" "$OUT/$name" <<'PYEOF'
import sys
import numpy as np
from PIL import Image
src, stem = sys.argv[1], sys.argv[2]
im = Image.open(src).convert("RGB")
a = np.asarray(im)
rows = np.where((a < 250).any(axis=(1, 2)))[0]
bottom = int(rows[-1]) + 20 if len(rows) else im.height
im = im.crop((0, 0, im.width, min(bottom, im.height)))
part, y = 1, 0
while y < im.height:
    im.crop((0, y, im.width, min(y + 1800, im.height))).save(f"{stem}-{part}.png")
    print(f"{stem}-{part}.png")
    part, y = part + 1, y + 1800
PYEOF
  rm -f "$tmp"
done
