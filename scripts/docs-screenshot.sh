#!/usr/bin/env bash
# A screenshot of the reference site's front page in a real headless browser, checked:
#
#     scripts/docs-screenshot.sh SITE-FOLDER SCREENSHOT.png
#
# Serves SITE-FOLDER (built by scripts/docs.sh, root "/") on 127.0.0.1 with python3's http.server, opens index.html in
# headless Chromium at 1280 x 900, and fails (exit 1, the reason on stderr) when the browser cannot render it, when any
# request the page makes (its style sheets, scripts, figures) is not answered with the file, when the page's DOM lacks
# the site's title and navigation or shows markup as text in it, or when the screenshot is blank (fewer than 2% of its
# pixels differ from the background, or fewer than 16 colours: text is anti-aliased, so a rendered page has many) or
# its navigation column is (the menu hidden, as an aside without fsdocs' id was). Needs chromium and python3 (Debian:
# apt-get install chromium python3).
set -uo pipefail

site=${1:?usage: scripts/docs-screenshot.sh SITE-FOLDER SCREENSHOT.png}
png=${2:?usage: scripts/docs-screenshot.sh SITE-FOLDER SCREENSHOT.png}
fail() { echo "scripts/docs-screenshot.sh: $*" >&2; exit 1; }

[ -f "$site/index.html" ] || fail "$site/index.html is missing: build the site with scripts/docs.sh first."
browser=$(command -v chromium || command -v chromium-browser) || fail "chromium is not installed (apt-get install chromium)."
command -v python3 > /dev/null || fail "python3 is not installed (apt-get install python3)."

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" > "$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2> /dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/index.html')" 2> /dev/null && break
  sleep 0.1
done

url="http://127.0.0.1:$port/index.html"
flags=(--headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --user-data-dir="$work/profile"
  --window-size=1280,900 --virtual-time-budget=5000)
timeout 120 "$browser" "${flags[@]}" --screenshot="$png" "$url" > "$work/browser.log" 2>&1 \
  || { tail -5 "$work/browser.log" >&2; fail "chromium could not take the screenshot."; }
timeout 120 "$browser" "${flags[@]}" --dump-dom "$url" > "$work/dom.html" 2> /dev/null \
  || fail "chromium could not render the page's DOM."

python3 - "$work/server.log" "$work/dom.html" "$png" <<'PYTHON' || exit 1
import re, struct, sys, zlib

log, dom, png = sys.argv[1:4]
problems = []

requests = re.findall(r'"GET (\S+) HTTP/[0-9.]+" (\d{3})', open(log).read())
# The browser asks for /favicon.ico by itself; the page does not link one.
failed = [f"{path} ({status})" for path, status in requests
          if status not in ("200", "304") and path != "/favicon.ico"]
if failed:
    problems.append("requests the site did not answer: " + ", ".join(failed))
styles = [path for path, _ in requests if path.endswith(".css")]
if not styles:
    problems.append("the page loaded no style sheet")

text = open(dom, encoding="utf-8", errors="replace").read()
if "<title>" not in text or "LowRank" not in text:
    problems.append("the rendered DOM has no LowRank title")
if "<nav" not in text or 'href="/reference/' not in text:
    problems.append("the rendered DOM has no navigation to the API reference")
navigation = text[text.find("<nav"):text.find("</nav>")]
if "&lt;" in navigation:
    problems.append("the navigation shows markup as text (a page title with code in it)")

def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unexpected PNG layout (depth {depth}, colour type {colour}, interlace {interlace})")
    size = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * size, [], bytearray(width * size)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - size] if x >= size else 0
            up = previous[x]
            corner = previous[x - size] if x >= size else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, [bytes(row[x:x + 3]) for row in rows for x in range(0, stride, size)]

try:
    width, height, colours = pixels(png)
    background = max(set(colours[::97]), key=colours[::97].count)
    inked = sum(1 for c in colours if c != background) / len(colours)
    distinct = len(set(colours))
    if (width, height) != (1280, 900):
        problems.append(f"the screenshot is {width} x {height}, not 1280 x 900")
    if inked < 0.02 or distinct < 16:
        problems.append(f"the screenshot is blank: {inked:.1%} of its pixels differ from the background, {distinct} colours")
    # The navigation column (the left 240 pixels below the header): a hidden menu leaves it one flat colour.
    menu = [colours[y * width + x] for y in range(80, height) for x in range(0, 240)]
    menuBackground = max(set(menu[::53]), key=menu[::53].count)
    if sum(1 for c in menu if c != menuBackground) / len(menu) < 0.01:
        problems.append("the navigation column is empty: the menu is not shown")
except (OSError, ValueError, zlib.error, TypeError) as e:
    problems.append(f"the screenshot cannot be read: {e}")

if problems:
    print("scripts/docs-screenshot.sh: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"docs screenshot: {png}, {inked:.0%} of the pixels inked, {distinct} colours, {len(requests)} requests answered")
PYTHON
