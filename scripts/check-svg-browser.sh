#!/bin/sh
# Render memvisor's SVG charts in a real browser and check the pictures.
#
# Usage: scripts/check-svg-browser.sh [BUILD]   (make check-svg)
#
# Runs a small overcommitted scenario with --svg, screenshots every chart
# with Debian's chromium in headless mode, decodes the PNGs (python3, zlib
# only) and checks that each is not blank: mostly non-white, several
# colours, and the colours the chart must show (the stacked area's private
# pages and the free-memory curve). Chromium is large, so it is installed
# only for this optional check (scripts/deps.sh with MV_EXTRA_PKGS).
set -eu
BUILD=${1:-build}
MV_EXTRA_PKGS=chromium ./scripts/deps.sh
BIN="$BUILD/memvisor"
dir=$(mktemp -d /tmp/mvsvg.XXXXXX)
trap 'rm -rf "$dir"' EXIT

cat > "$dir/s.xml" <<'EOF'
<scenario name="browser" seed="11" duration="8s" step="10ms" stats-interval="1s">
  <host><memory unit="MiB">64</memory></host>
  <vm count="2">
    <domain type="kvm"><name>vm</name><memory unit="MiB">48</memory></domain>
    <workload kind="steady" size="20MiB" rate="20k" write-ratio="0.3" content="data"/>
  </vm>
</scenario>
EOF
"$BIN" run -q --svg "$dir/out" "$dir/s.xml" > /dev/null

shoot() { # svg png height
	# --no-sandbox: CI containers run as root, where the sandbox refuses.
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
		--hide-scrollbars --window-size="820,$3" \
		--screenshot="$2" "file://$1" > /dev/null 2>&1
	[ -s "$2" ] || { echo "check-svg: chromium wrote no $2" >&2; exit 1; }
}
shoot "$dir/out/vm-vm-1.svg" "$dir/vm.png" 640
shoot "$dir/out/host.svg" "$dir/host.png" 700

python3 - "$dir/vm.png" "$dir/host.png" <<'EOF'
import struct, sys, zlib

def decode(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', path + ': not a PNG'
    pos, idat = 8, b''
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    assert depth == 8 and ctype in (2, 6), 'unexpected PNG format'
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):  # undo the per-row filters (PNG spec 9.2)
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pred) & 255
        rows.append(line)
        prev = line
    return w, h, [tuple(r[x:x + 3]) for r in rows for x in range(0, stride, bpp)]

def check(path, must):
    w, h, px = decode(path)
    colours = {}
    for p in px:
        colours[p] = colours.get(p, 0) + 1
    ink = 1 - colours.get((255, 255, 255), 0) / len(px)
    print('%s: %dx%d, %.0f%% not white, %d colours' % (path.split('/')[-1], w, h, 100 * ink, len(colours)))
    assert ink > 0.15, path + ': (nearly) blank'
    assert len(colours) > 8, path + ': too few colours'
    for name, rgb in must.items():
        near = sum(n for c, n in colours.items() if max(abs(c[k] - rgb[k]) for k in range(3)) <= 6)
        assert near > 200, '%s: no %s area (%s)' % (path, name, rgb)

check(sys.argv[1], {'private pages': (0x4e, 0x79, 0xa7), 'untouched pages': (0xdd, 0xdd, 0xdd)})
check(sys.argv[2], {'high state': (0xe8, 0xf5, 0xe9), 'free curve': (0x1f, 0x3a, 0x93)})
EOF
echo "check-svg: charts render in chromium"
