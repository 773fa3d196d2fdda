#!/usr/bin/python3
"""Opens an HTML page in headless Chromium and checks what a reader would get.

    check_report_in_browser.py PAGE.html [--expect 'svg#tradeoff circle.point=6' ...]
                               [--text 'n/a' ...] [--screenshot OUT.png]

Chromium runs twice on the page (each with a fresh profile and a timeout):
  --dump-dom      the DOM the browser built, parsed here: every --expect
                  selector must match (a descendant chain of tag#id.class
                  parts, with '=N' or '>=N' for a count, at least one
                  otherwise), every --text must be in the rendered text;
  --screenshot    the PNG of the window, decoded here (zlib, no PIL): not
                  blank, i.e. at least --min-colours distinct colours and
                  --min-ink of the pixels not white.
Both runs log the page's console to stderr: the reports run no scripts, so
any console message (this Chromium logs every level as INFO:CONSOLE, an
uncaught exception as "Uncaught ...") is a failure.

Prints one line per failure and exits 1 on any; 0 when all checks pass; 2
when the page or the browser could not be used; 77 (ctest's SKIP_RETURN_CODE)
with a line saying why when Chromium is not installed ($DML_CHROMIUM names
another browser binary). Standard library only.
"""
import argparse
import functools
import html.parser
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import zlib

SKIP = 77
# The page's console messages; the rest of Chromium's log is its own start-up
# noise (no D-Bus, no GPU on a test machine).
CONSOLE = re.compile(r":CONSOLE[:(]")


def find_chromium():
    """The browser: $DML_CHROMIUM where set (a path that is not there skips the
    check, which is how its skip is tried), else Debian's."""
    names = [os.environ["DML_CHROMIUM"]] if "DML_CHROMIUM" in os.environ else [
        "/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium"]
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(chromium, url, action, timeout):
    """Chromium's stdout and stderr for one headless run with a fresh profile."""
    with tempfile.TemporaryDirectory(prefix="dml_chromium_") as profile:
        command = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                   "--hide-scrollbars", "--window-size=1280,2400", "--user-data-dir=" + profile,
                   "--no-first-run", "--enable-logging=stderr", "--v=0", action, url]
        # A session of its own, so a timeout ends the renderer and GPU
        # processes Chromium started too, not just the one we did.
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True) as browser:
            try:
                out, err = browser.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(browser.pid, signal.SIGKILL)
                browser.communicate()
                raise RuntimeError(f"chromium {action} did not finish in {timeout} s")
        out, err = out.decode(errors="replace"), err.decode(errors="replace")
        if browser.returncode != 0:
            raise RuntimeError(f"chromium {action} exited {browser.returncode}: {err[-500:]}")
        return out, err


# ---- the DOM ---------------------------------------------------------------------

class Element:
    def __init__(self, tag, attrs, parent):
        self.tag, self.parent, self.children = tag, parent, []
        attrs = dict(attrs)
        self.id = attrs.get("id") or ""
        self.classes = set((attrs.get("class") or "").split())


class DomTree(html.parser.HTMLParser):
    """The serialised DOM as a tree of Elements, with the text a reader sees."""
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}
    HIDDEN = {"head", "style", "script", "title"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", [], None)
        self.at, self.elements, self.text = self.root, [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self.at)
        self.at.children.append(element)
        self.elements.append(element)
        if tag not in self.VOID:
            self.at = element

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.at = self.at.parent

    def handle_endtag(self, tag):
        # Chromium's serialisation closes every element it opened, so this
        # only unwinds elements the parser left open by mistake.
        at = self.at
        while at is not self.root and at.tag != tag:
            at = at.parent
        if at is not self.root:
            self.at = at.parent

    def handle_data(self, data):
        at = self.at
        while at is not self.root:
            if at.tag in self.HIDDEN:
                return
            at = at.parent
        self.text.append(data)


PART = re.compile(r"^([a-zA-Z][\w-]*|\*)?((?:[#.][\w-]+)*)$")


def parse_selector(text):
    """'svg#tradeoff circle.point' -> [(tag, id, classes), ...], outermost first."""
    chain = []
    for part in text.split():
        m = PART.match(part)
        if not m:
            raise ValueError(f"bad selector part '{part}' in '{text}'")
        tag = m.group(1) if m.group(1) not in (None, "*") else None
        ids = re.findall(r"#([\w-]+)", m.group(2))
        classes = set(re.findall(r"\.([\w-]+)", m.group(2)))
        chain.append((tag, ids[0] if ids else None, classes))
    if not chain:
        raise ValueError("empty selector")
    return chain


def matches(element, part):
    tag, id_, classes = part
    return ((tag is None or element.tag == tag) and (id_ is None or element.id == id_)
            and classes <= element.classes)


def select(tree, chain):
    """Elements matching the chain's last part with ancestors matching the rest in order."""
    found = []
    for element in tree.elements:
        if not matches(element, chain[-1]):
            continue
        rest, at = chain[:-1], element.parent
        while rest and at is not None:
            if matches(at, rest[-1]):
                rest = rest[:-1]
            at = at.parent
        if not rest:
            found.append(element)
    return found


EXPECTATION = re.compile(r"^(.*?)\s*(>=|=)\s*(\d+)$")


def parse_expectation(text):
    """'svg#tradeoff circle.point=6' -> (selector text, chain, op, count)."""
    m = EXPECTATION.match(text)
    selector, op, n = (m.group(1), m.group(2), int(m.group(3))) if m else (text, ">=", 1)
    return selector, parse_selector(selector), op, n


def check_expectation(tree, expectation):
    selector, chain, op, n = expectation
    found = len(select(tree, chain))
    if (op == "=" and found != n) or (op == ">=" and found < n):
        return f"DOM: expected {'' if op == '=' else 'at least '}{n} x '{selector}', found {found}"
    return None


# ---- the screenshot ----------------------------------------------------------------

def decode_png(data):
    """(width, height, bytes per pixel, rows of raw bytes) of an 8-bit RGB(A) PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, "
                         f"interlace {interlace}); Chromium writes 8-bit RGB(A)")
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    rows, prior = [], bytes(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        prior = unfilter(kind, line, prior, bpp)
        rows.append(prior)
    return width, height, bpp, rows


@functools.lru_cache
def byte_masks(n):
    return int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")


def add_bytes(a, b, n):
    """Bytewise (a + b) mod 256 of two n-byte big-endian integers in a few big-integer
    operations instead of a Python loop per byte: the low 7 bits of each byte add
    without carrying into the next byte, the top bit is their xor."""
    low, high = byte_masks(n)
    return ((a & low) + (b & low)) ^ ((a ^ b) & high)


def unfilter(kind, line, prior, bpp):
    n = len(line)
    if kind == 0:
        return bytes(line)
    if kind == 2:  # Up: one vector add
        out = add_bytes(int.from_bytes(line, "big"), int.from_bytes(prior, "big"), n)
        return out.to_bytes(n, "big")
    if kind == 1:  # Sub: a running sum per channel, as a log-step scan
        x, shift = int.from_bytes(line, "big"), bpp
        while shift < n:
            x = add_bytes(x, x >> (8 * shift), n)
            shift *= 2
        return x.to_bytes(n, "big")
    if kind == 4 and not any(line) and prior[bpp:] == prior[:-bpp]:
        return bytes(prior)  # Paeth of nothing under a one-colour row: the row again
    out = bytearray(line)
    for i in range(n):
        a = out[i - bpp] if i >= bpp else 0
        b = prior[i]
        if kind == 3:
            out[i] = (out[i] + ((a + b) >> 1)) & 255
        elif kind == 4:
            c = prior[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            out[i] = (out[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        else:
            raise ValueError(f"bad PNG filter type {kind}")
    return bytes(out)


def ink(png_bytes):
    """(distinct colours, fraction of pixels not white, width, height) of a screenshot."""
    width, height, bpp, rows = decode_png(png_bytes)
    colours, white = set(), 0
    for row in rows:
        pixels = list(zip(row[0::bpp], row[1::bpp], row[2::bpp]))
        colours.update(pixels)
        white += pixels.count((255, 255, 255))
    return len(colours), 1 - white / (width * height), width, height


# ---- main ---------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("page", help="the HTML file")
    parser.add_argument("--expect", action="append", default=[],
                        help="a selector with an optional count: 'svg#tradeoff circle.point=6'")
    parser.add_argument("--text", action="append", default=[],
                        help="text the rendered page must contain")
    parser.add_argument("--min-colours", type=int, default=16)
    parser.add_argument("--min-ink", type=float, default=0.01,
                        help="the least fraction of pixels that are not white")
    parser.add_argument("--screenshot", help="keep the screenshot here")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per Chromium run")
    args = parser.parse_args()

    try:
        expectations = [parse_expectation(e) for e in args.expect]
    except ValueError as e:
        print(f"error: {e}")
        return 2
    chromium = find_chromium()
    if not chromium:
        where = os.environ.get("DML_CHROMIUM", "Debian package chromium")
        print(f"SKIP: chromium is not installed ({where}); the browser check did not run")
        return SKIP
    if not os.path.isfile(args.page):
        print(f"error: no page at {args.page}")
        return 2
    url = "file://" + os.path.abspath(args.page)
    failures = []
    try:
        dom, log = run_chromium(chromium, url, "--dump-dom", args.timeout)
        with tempfile.TemporaryDirectory(prefix="dml_shot_") as scratch:
            png = os.path.join(scratch, "page.png")
            _, shot_log = run_chromium(chromium, url, "--screenshot=" + png, args.timeout)
            with open(png, "rb") as f:
                png_bytes = f.read()
            if args.screenshot:
                shutil.copyfile(png, args.screenshot)
    except (RuntimeError, OSError) as e:
        print(f"error: {e}")
        return 2

    # Each run logs the page's messages: one failure per message (the text after
    # the "[pid:tid:time:INFO:CONSOLE(line)]" prefix).
    messages = [line.split("] ", 1)[-1] for line in (log + shot_log).splitlines()
                if CONSOLE.search(line)]
    failures += ["console: " + m for m in dict.fromkeys(messages)]
    tree = DomTree(dom)
    if not tree.elements:
        failures.append("DOM: chromium printed no document")
    for expectation in expectations:
        failure = check_expectation(tree, expectation)
        if failure:
            failures.append(failure)
    text = " ".join("".join(tree.text).split())
    for wanted in args.text:
        if " ".join(wanted.split()) not in text:
            failures.append(f"DOM: the rendered text lacks '{wanted}'")
    colours, inked, width, height = ink(png_bytes)
    if colours < args.min_colours or inked < args.min_ink:
        failures.append(f"screenshot: looks blank: {colours} distinct colours (want >= "
                        f"{args.min_colours}), {100 * inked:.2f}% of {width}x{height} pixels "
                        f"not white (want >= {100 * args.min_ink:.2f}%)")

    for failure in failures:
        print("FAIL " + failure)
    if failures:
        print(f"check_report_in_browser: {len(failures)} failure(s) on {args.page}")
        return 1
    print(f"check_report_in_browser: ok: {len(tree.elements)} elements, {len(args.expect)} "
          f"selectors, {len(args.text)} texts, {colours} colours, {100 * inked:.1f}% ink")
    return 0


if __name__ == "__main__":
    sys.exit(main())
