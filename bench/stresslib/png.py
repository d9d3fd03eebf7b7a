# SPDX-License-Identifier: Apache-2.0
"""A small PNG writer for the plots on a machine without gnuplot: a canvas with lines and
a 5x7 font, axes with round ticks, zlib-compressed RGB rows."""
import math
import os
import struct
import zlib


MAX_POINTS = 300  # a longer timeline is drawn as means of consecutive samples


def bin_size(run):
    """Samples per plotted point: 1 up to MAX_POINTS samples, so a soak's plots stay readable
    (and small) while a short run shows every sample."""
    return max(1, -(-len(run.timeline) // MAX_POINTS))


def series(run, col):
    """(xs, ys) of a timeline column, skipping missing values; with bin_size(run) > 1 each
    point is the mean time and value of that many consecutive samples."""
    k = bin_size(run)
    xs, ys = [], []
    for i in range(0, len(run.timeline), k):
        pts = [(r["t"], float(r[col])) for r in run.timeline[i:i + k]
               if isinstance(r.get(col), (int, float)) and r[col] == r[col]]
        if pts:
            xs.append(sum(p[0] for p in pts) / len(pts))
            ys.append(sum(p[1] for p in pts) / len(pts))
    return xs, ys


# A 5x7 font (columns, bit 0 at the top) for the builtin PNG writer; text is drawn upper case.
FONT = {
    " ": "0000000000", "!": "00005f0000", "%": "2313086462", "'": "0000070000",
    "(": "001c224100", ")": "0041221c00", "*": "14083e0814", "+": "08083e0808",
    ",": "0050300000", "-": "0808080808", ".": "0060600000", "/": "2010080402",
    "0": "3e5149453e", "1": "00427f4000", "2": "4261514946", "3": "2141454b31",
    "4": "1814127f10", "5": "2745454539", "6": "3c4a494930", "7": "0171090503",
    "8": "3649494936", "9": "064949291e", ":": "0036360000", "=": "1414141414",
    "<": "0814224100", ">": "0041221408", "A": "7e1111117e", "B": "7f49494936",
    "C": "3e41414122", "D": "7f4141221c", "E": "7f49494941", "F": "7f09090901",
    "G": "3e4149497a", "H": "7f0808087f", "I": "00417f4100", "J": "2040413f01",
    "K": "7f08142241", "L": "7f40404040", "M": "7f020c027f", "N": "7f0408107f",
    "O": "3e4141413e", "P": "7f09090906", "Q": "3e4151215e", "R": "7f09192946",
    "S": "4649494931", "T": "01017f0101", "U": "3f4040403f", "V": "1f2040201f",
    "W": "3f4038403f", "X": "6314081463", "Y": "0708700807", "Z": "6151494543",
    "[": "007f414100", "]": "0041417f00", "_": "4040404040", "|": "00007f0000",
    "{": "0008364100", "}": "0041360800", "?": "0201510906", "#": "147f147f14",
}
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
           (0, 0, 0), (120, 120, 255)]


class Canvas:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.px = bytearray(b"\xff" * (w * h * 3))

    def dot(self, x, y, c):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(c)

    def rect(self, x0, y0, x1, y1, c):
        for y in range(max(0, y0), min(self.h, y1)):
            i = (y * self.w + max(0, x0)) * 3
            n = max(0, min(self.w, x1) - max(0, x0))
            self.px[i:i + 3 * n] = bytes(c) * n

    def line(self, x0, y0, x1, y1, c, dashed=False):
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err, k = dx + dy, 0
        while True:
            if not dashed or (k // 4) % 2 == 0:
                self.dot(x0, y0, c)
                self.dot(x0, y0 + 1, c)
            k += 1
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, x, y, s, c=(0, 0, 0)):
        for ch in str(s).upper():
            g = FONT.get(ch, FONT["?"])
            for col in range(5):
                bits = int(g[2 * col:2 * col + 2], 16)
                for row in range(7):
                    if bits >> row & 1:
                        self.dot(x + col, y + row, c)
            x += 6
        return x

    def png(self):
        raw = b"".join(b"\x00" + bytes(self.px[y * self.w * 3:(y + 1) * self.w * 3])
                       for y in range(self.h))

        def chunk(tag, data):
            return (struct.pack(">I", len(data)) + tag + data +
                    struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff))
        ihdr = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 6))
                + chunk(b"IEND", b""))


def nice_ticks(lo, hi, n=5):
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), default=mag * 10)
    t = math.floor(lo / step) * step
    out = []
    while t <= hi + step * 1e-9:
        out.append(t)
        t += step
    return out


def label_num(v):
    if v == 0:
        return "0"
    if abs(v) >= 100 or v == int(v):
        return "%d" % round(v)
    if abs(v) >= 1:
        return "%.1f" % v
    return ("%.3f" % v).rstrip("0")


def builtin_plot(run, name, title, panels):
    W, PH, TOP, LM, RM = 1200, 300, 30, 70, 230
    cv = Canvas(W, TOP + PH * len(panels) + 10)
    cv.text(LM, 10, title)
    minutes = run.timeline and run.timeline[-1]["t"] > 600
    for k, (ylabel, logy, ser) in enumerate(panels):
        y0 = TOP + k * PH + 10
        x0, x1, yb = LM, W - RM, y0 + PH - 40
        data = []
        for j, (label, col) in enumerate(ser):
            xs, ys = series(run, col)
            if logy:
                pts = [(x, math.log10(y)) for x, y in zip(xs, ys) if y > 0]
            else:
                pts = list(zip(xs, ys))
            if pts:
                data.append((label, PALETTE[j % len(PALETTE)], pts))
        cv.rect(x0, y0, x1, y0 + 1, (0, 0, 0))
        cv.rect(x0, yb, x1, yb + 1, (0, 0, 0))
        cv.rect(x0, y0, x0 + 1, yb, (0, 0, 0))
        cv.rect(x1, y0, x1 + 1, yb, (0, 0, 0))
        cv.text(x0, y0 - 10, ylabel)
        if not data:
            cv.text((x0 + x1) // 2 - 20, (y0 + yb) // 2, "no data")
            continue
        allx = [p[0] for d in data for p in d[2]]
        ally = [p[1] for d in data for p in d[2]]
        xlo, xhi = min(allx), max(allx)
        if xhi <= xlo:
            xhi = xlo + 1
        if logy:
            ylo, yhi = math.floor(min(ally)), math.ceil(max(ally))
            if yhi <= ylo:
                yhi = ylo + 1
            yt = [(v, label_num(10 ** v)) for v in range(int(ylo), int(yhi) + 1)]
        else:
            ylo, yhi = min(0.0, min(ally)), max(ally)
            if yhi <= ylo:
                yhi = ylo + 1
            ticks = nice_ticks(ylo, yhi)
            yhi = max(yhi, ticks[-1])
            yt = [(v, label_num(v)) for v in ticks]

        def X(x):
            return int(x0 + (x - xlo) / (xhi - xlo) * (x1 - x0 - 1))

        def Y(y):
            return int(yb - (y - ylo) / (yhi - ylo) * (yb - y0 - 4))
        for v, lab in yt:
            yy = Y(v)
            if y0 <= yy <= yb:
                cv.rect(x0 + 1, yy, x1, yy + 1, (225, 225, 225))
                cv.text(x0 - 6 * len(lab) - 4, yy - 3, lab)
        scale = 60.0 if minutes else 1.0
        for v in nice_ticks(xlo / scale, xhi / scale, 8):
            xx = X(v * scale)
            if x0 <= xx <= x1:
                cv.rect(xx, y0 + 1, xx + 1, yb, (235, 235, 235))
                lab = label_num(v)
                cv.text(xx - 3 * len(lab), yb + 6, lab)
        cv.text(x1 - 60, yb + 18, "minutes" if minutes else "seconds")
        for j, (label, color, pts) in enumerate(data):
            dashed = label == "fit"
            for (xa, ya), (xb, yb2) in zip(pts, pts[1:]):
                cv.line(X(xa), Y(ya), X(xb), Y(yb2), color, dashed)
            if len(pts) == 1:
                px, py = X(pts[0][0]), Y(pts[0][1])
                cv.rect(px - 1, py - 1, px + 2, py + 2, color)
            ly = y0 + 6 + 12 * j
            cv.rect(x1 + 10, ly, x1 + 22, ly + 7, color)
            cv.text(x1 + 28, ly, label.replace("_", " ")[:32])
    with open(os.path.join(run.a.out, name), "wb") as f:
        f.write(cv.png())
