"""Pixel art and sound effects of the sample project, made from integers only.

No floats and no `random`: every value comes from integer arithmetic and a fixed hash, so the
generator produces the same pixels and PCM samples on any machine and Python version.
"""

from __future__ import annotations

from collections.abc import Callable

Colour = tuple[int, int, int]

KEY: Colour = (0xFF, 0x00, 0xFF)  # colour 0 of every palette: the transparent key

# "Sweetie 16" by GrafxKid, with a brown for wood and the key in front.
DAY: list[Colour] = [
    KEY, (0x1A, 0x1C, 0x2C), (0x7A, 0x4A, 0x2A), (0xB1, 0x3E, 0x53), (0xEF, 0x7D, 0x57),
    (0xFF, 0xCD, 0x75), (0xA7, 0xF0, 0x70), (0x38, 0xB7, 0x64), (0x25, 0x71, 0x79),
    (0x29, 0x36, 0x6F), (0x3B, 0x5D, 0xC9), (0x41, 0xA6, 0xF6), (0x73, 0xEF, 0xF7),
    (0xF4, 0xF4, 0xF4), (0x94, 0xB0, 0xC2), (0x56, 0x6C, 0x86),
]
OUTLINE, BROWN, RED, ORANGE, YELLOW, LIGHT_GREEN, GREEN, DARK_GREEN = range(1, 9)
DARK_BLUE, BLUE, LIGHT_BLUE, CYAN, WHITE, LIGHT_GREY, GREY = range(9, 16)
_WARM_LIGHTS = {ORANGE, YELLOW}


def _dusk(index: int, colour: Colour) -> Colour:
    """Evening light: everything darker and bluer, except the warm lamp colours."""
    if index == 0 or index in _WARM_LIGHTS:
        return colour
    r, g, b = colour
    return r * 9 // 20, g * 9 // 20, min(255, b * 13 // 20 + 36)


DUSK: list[Colour] = [_dusk(i, c) for i, c in enumerate(DAY)]
UI: list[Colour] = [KEY, (0x1A, 0x1C, 0x2C), (0xF4, 0xF4, 0xF4), (0xB1, 0x3E, 0x53),
                    (0xFF, 0xCD, 0x75)]


def noise(*values: int) -> int:
    """A fixed 32-bit hash of integers (FNV-1a, then an avalanche)."""
    h = 0x811C9DC5
    for value in values:
        h = ((h ^ (value & 0xFFFFFFFF)) * 0x01000193) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
    h ^= h >> 12
    return h


class Canvas:
    """A square grid of palette indices; 0 is transparent."""

    def __init__(self, size: int, fill: int = 0) -> None:
        self.size = size
        self.px = [fill] * (size * size)

    def get(self, x: int, y: int) -> int:
        return self.px[y * self.size + x] if 0 <= x < self.size and 0 <= y < self.size else 0

    def set(self, x: int, y: int, colour: int) -> None:
        if 0 <= x < self.size and 0 <= y < self.size:
            self.px[y * self.size + x] = colour

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: int) -> None:
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                self.set(x, y, colour)

    def disc(self, cx: int, cy: int, rx: int, ry: int, colour: int) -> None:
        for y in range(self.size):
            for x in range(self.size):
                if (x - cx) ** 2 * ry * ry + (y - cy) ** 2 * rx * rx <= rx * rx * ry * ry:
                    self.set(x, y, colour)

    def speckle(self, seed: int, colour: int, per_mille: int, over: int | None = None) -> None:
        for y in range(self.size):
            for x in range(self.size):
                hit = noise(seed, x, y) % 1000 < per_mille
                if hit and (over is None or self.get(x, y) == over):
                    self.set(x, y, colour)

    def outline(self, colour: int = OUTLINE) -> None:
        """Ring every drawn shape with `colour`, the way sprites get their dark edge."""
        edge = [
            (x, y) for y in range(self.size) for x in range(self.size)
            if self.get(x, y) == 0 and any(
                self.get(x + dx, y + dy) not in (0, colour)
                for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
            )
        ]
        for x, y in edge:
            self.set(x, y, colour)

    def shade(self, colour: int, dark: int, light: int, cx: int, cy: int, *,
              reach: int = 4) -> None:
        """Light from the top left: darker lower right, a highlight upper left."""
        for y in range(self.size):
            for x in range(self.size):
                if self.get(x, y) == colour:
                    side = (x - cx) + (y - cy)
                    if side >= reach:
                        self.set(x, y, dark)
                    elif side <= -reach - 1:
                        self.set(x, y, light)


# -- overworld tiles (16 px) ----------------------------------------------------------------


def grass(seed: int = 1) -> Canvas:
    c = Canvas(16, GREEN)
    c.speckle(seed, DARK_GREEN, 90)
    for x, y in ((3, 4), (11, 2), (7, 10), (13, 12), (2, 13)):
        tx, ty = (x + seed * 5) % 16, (y + seed * 3) % 16
        c.set(tx, ty, LIGHT_GREEN)
        c.set(tx, ty - 1, LIGHT_GREEN)
        c.set(tx + 1, ty, LIGHT_GREEN)
    return c


def flowers() -> Canvas:
    c = grass(2)
    for (x, y), petal in (((4, 4), WHITE), ((11, 6), WHITE), ((6, 12), RED), ((13, 13), WHITE)):
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            c.set(x + dx, y + dy, petal)
        c.set(x, y, YELLOW)
    return c


def path() -> Canvas:
    c = Canvas(16, YELLOW)
    c.speckle(3, ORANGE, 110)
    c.speckle(4, LIGHT_GREY, 35)
    return c


def water() -> Canvas:
    c = Canvas(16, BLUE)
    for row in range(0, 16, 5):
        start = (row * 7) % 16
        for i in range(5):
            c.set((start + i) % 16, row + 1 + (1 if i in (0, 4) else 0), LIGHT_BLUE)
    c.speckle(5, CYAN, 12, over=BLUE)
    return c


def deep_water() -> Canvas:
    c = Canvas(16, DARK_BLUE)
    for row in (3, 10):
        for i in range(6):
            c.set((row * 3 + i) % 16, row + (1 if i in (0, 5) else 0), BLUE)
    return c


def bricks() -> Canvas:
    c = Canvas(16, GREY)
    for y in range(16):
        for x in range(16):
            shift = 4 if (y // 4) % 2 else 0
            if y % 4 == 3 or (x + shift) % 8 == 7:
                c.set(x, y, OUTLINE)
            elif y % 4 == 0:
                c.set(x, y, LIGHT_GREY)
    return c


def tree() -> Canvas:
    c = Canvas(16)
    c.rect(7, 11, 8, 14, BROWN)
    c.disc(8, 6, 6, 5, GREEN)
    c.shade(GREEN, DARK_GREEN, LIGHT_GREEN, 8, 6)
    c.speckle(6, DARK_GREEN, 80, over=GREEN)
    c.outline()
    return c


def bush() -> Canvas:
    c = Canvas(16)
    c.disc(8, 10, 6, 4, GREEN)
    c.shade(GREEN, DARK_GREEN, LIGHT_GREEN, 8, 10)
    for x, y in ((5, 9), (10, 11), (8, 8)):
        c.set(x, y, RED)
    c.outline()
    return c


def rock() -> Canvas:
    c = Canvas(16)
    c.disc(8, 10, 6, 4, LIGHT_GREY)
    c.shade(LIGHT_GREY, GREY, WHITE, 8, 10)
    c.outline()
    return c


def planks() -> Canvas:
    c = Canvas(16)
    for x in range(16):
        colour = OUTLINE if x % 4 == 3 else (ORANGE if (x // 4) % 2 else BROWN)
        c.rect(x, 0, x, 15, colour)
    for x in range(1, 16, 4):
        c.set(x, 2, LIGHT_GREY)
        c.set(x, 13, LIGHT_GREY)
    return c


def chest() -> Canvas:
    c = Canvas(16)
    c.rect(2, 6, 13, 14, BROWN)
    c.rect(2, 6, 13, 8, ORANGE)
    c.rect(2, 9, 13, 9, OUTLINE)
    for x in (3, 12):
        c.rect(x, 6, x, 14, GREY)
    c.rect(7, 8, 8, 10, YELLOW)
    c.outline()
    return c


def lantern() -> Canvas:
    """Drawn for the dusk palette: the lamp keeps its warm colours."""
    c = Canvas(16)
    c.rect(7, 7, 8, 15, GREY)
    c.rect(5, 1, 10, 6, OUTLINE)
    c.rect(6, 2, 9, 5, YELLOW)
    c.rect(7, 3, 8, 4, WHITE)
    for x, y in ((4, 3), (11, 3), (7, 0), (8, 0)):
        c.set(x, y, ORANGE)
    c.outline()
    return c


OVERWORLD_TILES: list[tuple[str, Callable[[], Canvas], int]] = [
    # (name, painter, palette used to convert it: 0 day, 1 dusk)
    ("grass", grass, 0), ("flowers", flowers, 0), ("path", path, 0), ("water", water, 0),
    ("deep_water", deep_water, 0), ("bricks", bricks, 0), ("tree", tree, 0), ("bush", bush, 0),
    ("rock", rock, 0), ("planks", planks, 0), ("chest", chest, 0), ("lantern", lantern, 1),
]

# -- font glyphs (8 px): 5×7 bitmaps with a drop shadow -------------------------------------

GLYPHS: list[tuple[str, tuple[str, ...]]] = [
    ("space", ("",) * 7),
    ("zero", (".###.", "#..##", "#.#.#", "#.#.#", "##..#", "#...#", ".###.")),
    ("one", ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###.")),
    ("two", (".###.", "#...#", "....#", "..##.", ".#...", "#....", "#####")),
    ("three", ("####.", "....#", "....#", ".###.", "....#", "....#", "####.")),
    ("heart", (".#.#.", "#####", "#####", "#####", ".###.", "..#..", ".....")),
    ("star", ("..#..", "..#..", "#####", ".###.", ".#.#.", "#...#", ".....")),
    ("p", ("####.", "#...#", "#...#", "####.", "#....", "#....", "#....")),
    ("r", ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#")),
    ("o", (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.")),
    ("m", ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#")),
    ("e", ("#####", "#....", "#....", "####.", "#....", "#....", "#####")),
    ("t", ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#..")),
    ("u", ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###.")),
]
_GLYPH_COLOUR = {"heart": 3, "star": 4}  # UI palette: 1 shadow, 2 white, 3 red, 4 gold


def glyph(name: str, rows: tuple[str, ...]) -> Canvas:
    c = Canvas(8)
    colour = _GLYPH_COLOUR.get(name, 2)
    for y, row in enumerate(rows):
        for x, mark in enumerate(row):
            if mark == "#":
                c.set(x + 2, y + 1, 1)  # the shadow first, one pixel down and right
    for y, row in enumerate(rows):
        for x, mark in enumerate(row):
            if mark == "#":
                c.set(x + 1, y, colour)
    return c


# -- the unregistered work in progress (32 px, dusk colours) --------------------------------


def boss_head() -> Canvas:
    c = Canvas(32)
    c.disc(16, 17, 13, 12, RED)
    c.shade(RED, BROWN, ORANGE, 16, 17, reach=11)
    for ex in (11, 21):
        c.disc(ex, 14, 3, 3, WHITE)
        c.rect(ex, 14, ex + 1, 16, OUTLINE)
    c.rect(10, 23, 22, 24, OUTLINE)
    for x in range(11, 22, 3):
        c.set(x, 23, WHITE)
    c.outline()
    return c


def boss_hand() -> Canvas:
    c = Canvas(32)
    c.disc(16, 20, 10, 8, RED)
    for fx in (9, 14, 19, 24):
        c.rect(fx - 1, 6, fx + 1, 16, RED)
    c.shade(RED, BROWN, ORANGE, 16, 16, reach=10)
    c.outline()
    return c


# -- level map -------------------------------------------------------------------------------

LEVEL_W, LEVEL_H = 20, 12


def level1() -> bytes:
    """`LVL1`, width, height, then one overworld tile index per cell, row-major."""
    grid = [0] * (LEVEL_W * LEVEL_H)
    for y in range(LEVEL_H):
        for x in range(LEVEL_W):
            cell = 1 if noise(7, x, y) % 7 == 0 else 0
            if x in (0, LEVEL_W - 1) or y in (0, LEVEL_H - 1):
                cell = 5
            elif (x - 13) ** 2 + (y - 6) ** 2 * 2 <= 14:
                cell = 4 if (x - 13) ** 2 + (y - 6) ** 2 * 2 <= 4 else 3
            elif y == 6 or x == 5:
                cell = 2
            elif noise(8, x, y) % 9 == 0:
                cell = 6 if noise(9, x, y) % 3 else 7
            grid[y * LEVEL_W + x] = cell
    grid[6 * LEVEL_W + 10] = grid[6 * LEVEL_W + 16] = 9
    for x in range(11, 16):
        grid[6 * LEVEL_W + x] = 9  # a bridge across the pond
    grid[2 * LEVEL_W + 17] = 10
    grid[9 * LEVEL_W + 3] = 8
    grid[5 * LEVEL_W + 6] = 11
    return b"LVL1" + bytes((LEVEL_W, LEVEL_H)) + bytes(grid)


# -- sound effects: 16-bit mono integer synthesis --------------------------------------------

RATE = 22050


def _square(phase: int) -> int:
    return 1 if phase & 0x80000000 else -1


def _pcm(values: list[int]) -> bytes:
    return b"".join(max(-32768, min(32767, v)).to_bytes(2, "little", signed=True)
                    for v in values)


def jump() -> bytes:
    """A square wave gliding from 280 Hz to 880 Hz while it fades."""
    n = RATE * 18 // 100
    out, phase = [], 0
    for i in range(n):
        freq = 280 + 600 * i // n
        phase = (phase + freq * (1 << 32) // RATE) & 0xFFFFFFFF
        out.append(_square(phase) * 9000 * (n - i) // n)
    return _pcm(out)


def coin() -> bytes:
    """The classic two-note pickup: B5 then E6."""
    first, total = RATE * 6 // 100, RATE * 30 // 100
    out, phase = [], 0
    for i in range(total):
        freq = 988 if i < first else 1319
        phase = (phase + freq * (1 << 32) // RATE) & 0xFFFFFFFF
        level = 7000 if i < first else 7000 * (total - i) // (total - first)
        out.append(_square(phase) * level)
    return _pcm(out)


def hit() -> bytes:
    """A burst of LFSR noise, coarser as it decays."""
    n = RATE * 15 // 100
    out, lfsr, held = [], 0xACE1, 0
    for i in range(n):
        if i % (1 + 4 * i // n) == 0:
            bit = (lfsr ^ (lfsr >> 2) ^ (lfsr >> 3) ^ (lfsr >> 5)) & 1
            lfsr = (lfsr >> 1) | (bit << 15)
            held = (lfsr & 0xFFFF) - 0x8000
        out.append(held * 12000 // 0x8000 * (n - i) // n)
    return _pcm(out)


SOUNDS: list[tuple[str, Callable[[], bytes]]] = [("jump", jump), ("coin", coin), ("hit", hit)]
