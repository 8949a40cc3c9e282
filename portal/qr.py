"""QR codes, drawn by Zint (the C barcode library, through zint-bindings).

Every QR code of the portal comes from here: the verification link on each
certificate (a bitmap of one pixel per module, many per second in a bulk
run) and an event registration's check-in code (inline SVG on its page, a
PNG in its e-mail). Level M error correction throughout: readable from a
creased print-out or a scratched phone screen. Zint chooses the mask the
standard's way (ISO/IEC 18004, the lowest penalty of the eight) in C, about
0.3 ms a code, where a pure-Python encoder took about 7 ms
(docs/dependencies.md).
"""

import base64
import re
from html import escape

import zint

#: Zint's option_1 for QR codes: 1 = L, 2 = M, 3 = Q, 4 = H.
_LEVEL_M = 2
#: The standard's quiet zone around a QR code, in modules.
QUIET_ZONE = 4


def _symbol(text: str, *, quiet_zone: bool, outfile: str) -> zint.Symbol:
    symbol = zint.Symbol()
    symbol.symbology = zint.Symbology.QRCODE
    symbol.option_1 = _LEVEL_M
    symbol.input_mode = zint.InputMode.UNICODE
    symbol.output_options = zint.OutputOptions.BARCODE_MEMORY_FILE
    if quiet_zone:
        symbol.output_options |= zint.OutputOptions.BARCODE_QUIET_ZONES
    symbol.outfile = outfile  # in memory: only its extension chooses the format
    symbol.fgcolour = "1a1a1a"
    symbol.bgcolour = "ffffff"
    symbol.encode(text)
    return symbol


def _drawn(symbol: zint.Symbol) -> bytes:
    """What Zint drew, from memory (BARCODE_MEMORY_FILE)."""
    symbol.print()
    if symbol.memfile is None:  # only without BARCODE_MEMORY_FILE
        raise ValueError("Zint drew nothing")
    return bytes(symbol.memfile)


def qr_png(text: str, *, pixels_per_module: int = 1, quiet_zone: bool = True) -> bytes:
    """The QR code of `text` as a PNG, `pixels_per_module` pixels a module,
    with the standard quiet zone unless the page around it gives one."""
    symbol = _symbol(text, quiet_zone=quiet_zone, outfile="qr.png")
    # Zint's scale counts half-pixels: scale 1 draws a module 2 pixels wide.
    symbol.scale = pixels_per_module / 2
    return _drawn(symbol)


def qr_png_data_uri(text: str) -> str:
    """A PNG of one pixel per module without quiet zone, as a data: URI: a
    few hundred bytes, scaled up by CSS without smoothing (certificates)."""
    png = qr_png(text, pixels_per_module=1, quiet_zone=False)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


_PATH = re.compile(r'<path d="([^"]*)"')


def qr_svg(text: str, *, title: str = "", css_class: str = "qr-code") -> str:
    """The QR code of `text` as inline SVG with the quiet zone, one unit a
    module and no size of its own (CSS sizes it). `title` becomes its
    <title>, which screen readers announce; the SVG is then an image to
    assistive technology."""
    symbol = _symbol(text, quiet_zone=True, outfile="qr.svg")
    symbol.scale = 0.5  # one unit a module
    drawn = _drawn(symbol).decode("ascii")
    match = _PATH.search(drawn)
    if match is None:  # Zint draws every module of a QR code as one path
        raise ValueError("Zint drew no QR code")
    size = symbol.width + 2 * QUIET_ZONE
    label = f"<title>{escape(title)}</title>" if title else ""
    role = ' role="img"' if title else ' aria-hidden="true"'
    return (
        f'<svg{role} class="{escape(css_class)}" viewBox="0 0 {size} {size}" '
        f'xmlns="http://www.w3.org/2000/svg">{label}'
        f'<rect width="{size}" height="{size}" fill="#ffffff"/>'
        f'<path fill="#1a1a1a" d="{match.group(1)}"/></svg>'
    )
