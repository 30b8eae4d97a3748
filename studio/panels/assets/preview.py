"""Preview widgets: a glyph sheet with zoom and palette choice; a sound's facts and waveform;
a raw asset's first bytes as a hex dump."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRect, QSize, Qt, Slot
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QImage,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.services.preview_data import (
    GLYPH_SHEET,
    AssetPreview,
    GlyphPreview,
    NoPreview,
    RawPreview,
    SoundPreview,
    hex_dump,
)

AS_BUILT = -1
AS_BUILT_MEANING = "As built: every tile drawn with its own palette"
FIT = 0  # the largest whole zoom at which the used tiles fit the pane's width
ZOOMS = (1, 2, 3, 4, 6, 8)
MAX_FIT_ZOOM = 8
FALLBACK_FIT_ZOOM = 4  # before the pane has a width
SHEET_MARGIN = 8
FIT_MAX_HEIGHT = 320  # at Fit, the tiles fill the width but the sheet stays about this tall
DUMP_WIDTHS = (16, 8, 4)  # bytes per hex dump line, the widest that fits the pane


def used_area(tile_count: int, tile_size: int) -> tuple[int, int]:
    """Width and height (px) of the sheet's occupied tiles (laid row-major from the top-left):
    the preview shows these, not the empty rest of the 256×256 sheet."""
    if tile_count <= 0 or tile_size <= 0:
        return GLYPH_SHEET, GLYPH_SHEET
    per_row = max(1, GLYPH_SHEET // tile_size)
    rows = -(-tile_count // per_row)
    return min(tile_count, per_row) * tile_size, min(GLYPH_SHEET, rows * tile_size)


def fit_zoom(content_width: int, available_width: int) -> int:
    if available_width <= 0 or content_width <= 0:
        return FALLBACK_FIT_ZOOM
    return max(1, min(MAX_FIT_ZOOM, available_width // content_width))


def fit_layout(tile_count: int, tile_size: int, available_width: int,
               max_height: int = FIT_MAX_HEIGHT) -> tuple[int, int]:
    """(columns, zoom) for the Fit view: the largest zoom at which the tiles, re-flowed into as
    many columns as the width allows, stay within `max_height` (zoom 1 if none does)."""
    if tile_count <= 0 or tile_size <= 0 or available_width <= 0:
        return max(1, min(tile_count, GLYPH_SHEET // max(1, tile_size))), FALLBACK_FIT_ZOOM
    for zoom in range(MAX_FIT_ZOOM, 0, -1):
        columns = min(tile_count, available_width // (tile_size * zoom))
        if columns < 1:
            continue
        rows = -(-tile_count // columns)
        if rows * tile_size * zoom <= max_height or zoom == 1:
            return columns, zoom
    return 1, 1


def reflow_tiles(image: QImage, tile_count: int, tile_size: int, columns: int) -> QImage:
    """The sheet's tiles in `columns` columns (preview only: the built sheet is unchanged)."""
    per_row = max(1, GLYPH_SHEET // tile_size)
    if columns == min(tile_count, per_row):
        return image  # already laid out so
    rows = -(-tile_count // columns)
    result = QImage(columns * tile_size, rows * tile_size, QImage.Format.Format_ARGB32)
    result.fill(Qt.GlobalColor.transparent)
    source = image.convertToFormat(QImage.Format.Format_ARGB32)
    painter = QPainter(result)
    for index in range(tile_count):
        painter.drawImage(
            QPoint(index % columns * tile_size, index // columns * tile_size), source,
            QRect(index % per_row * tile_size, index // per_row * tile_size,
                  tile_size, tile_size),
        )
    painter.end()
    return result


class GlyphPreviewWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._preview: GlyphPreview | None = None
        self.palette_choice = QComboBox()
        self.palette_choice.setToolTip(f"{AS_BUILT_MEANING}, or all tiles with one palette")
        self.zoom_choice = QComboBox()
        self.zoom_choice.setToolTip("Zoom (pixels stay sharp). Fit lays the tiles out to fill "
                                    "the pane's width; a zoom shows the sheet as built")
        self.zoom_choice.addItem("Fit", FIT)
        for zoom in ZOOMS:
            self.zoom_choice.addItem(f"{zoom}×", zoom)
        self.zoom_choice.setCurrentIndex(0)
        self.facts = QLabel()
        self.sheet = QLabel()
        self.sheet.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.sheet.setStyleSheet("background: #3a3a3a;")  # shows transparent pixels as dark
        self.scroller = QScrollArea()
        self.scroller.setWidget(self.sheet)
        self.scroller.setWidgetResizable(True)
        self.scroller.setMinimumHeight(96)
        self.zoom = FALLBACK_FIT_ZOOM  # the zoom of the sheet on screen
        self.columns = 0  # tiles per row on screen (at Fit, re-flowed to the pane's width)
        # As wide as its longest choice, and the choices short ("As built (each tile's palette)"
        # was cut to "As built (eac"): the details fit a pane of 340 px.
        self.palette_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.facts.setWordWrap(True)
        palette_label = QLabel("&Palette")
        palette_label.setBuddy(self.palette_choice)
        zoom_label = QLabel("&Zoom")
        zoom_label.setBuddy(self.zoom_choice)
        controls = QHBoxLayout()
        controls.addWidget(palette_label)
        controls.addWidget(self.palette_choice)
        controls.addWidget(zoom_label)
        controls.addWidget(self.zoom_choice)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.facts)
        layout.addLayout(controls)
        layout.addWidget(self.scroller, 1)
        self.palette_choice.currentIndexChanged.connect(self._on_choice_changed)
        self.zoom_choice.currentIndexChanged.connect(self._on_choice_changed)

    def show_preview(self, preview: GlyphPreview) -> None:
        self._preview = preview
        self.facts.setText(
            f"{preview.tile_count} tiles of {preview.tile_size}×{preview.tile_size} px, "
            f"{len(preview.palettes)} palette(s)"
        )
        self.palette_choice.blockSignals(True)
        self.palette_choice.clear()
        self.palette_choice.addItem("As built", AS_BUILT)
        self.palette_choice.setItemData(0, AS_BUILT_MEANING, Qt.ItemDataRole.ToolTipRole)
        for index in range(len(preview.palettes)):
            self.palette_choice.addItem(f"Palette {index}", index)
        self.palette_choice.blockSignals(False)
        self._render()

    def image(self) -> QImage:
        """The used part of the sheet as currently chosen (palette), before zoom."""
        preview = self._preview
        if preview is None:
            return QImage()
        choice = self.palette_choice.currentData()
        if choice is None or choice == AS_BUILT or not preview.palettes:
            image = QImage(
                preview.as_built_rgba, GLYPH_SHEET, GLYPH_SHEET, GLYPH_SHEET * 4,
                QImage.Format.Format_RGBA8888,
            )
        else:
            image = QImage(
                preview.indices, GLYPH_SHEET, GLYPH_SHEET, GLYPH_SHEET,
                QImage.Format.Format_Indexed8,
            )
            image.setColorTable(list(preview.palettes[int(choice)]))
        width, height = used_area(preview.tile_count, preview.tile_size)
        return image.copy(QRect(0, 0, width, height))  # copy: the bytes stay the preview's

    def _render(self) -> None:
        image = self.image()
        preview = self._preview
        if image.isNull() or preview is None:
            self.sheet.clear()
            return
        chosen = int(self.zoom_choice.currentData() or FIT)
        available = self.scroller.viewport().width() - SHEET_MARGIN
        per_row = max(1, GLYPH_SHEET // max(1, preview.tile_size))
        if chosen == FIT and preview.tile_count > 0:
            self.columns, self.zoom = fit_layout(preview.tile_count, preview.tile_size,
                                                 available)
            image = reflow_tiles(image, preview.tile_count, preview.tile_size, self.columns)
        else:
            self.columns = min(max(1, preview.tile_count), per_row)
            self.zoom = chosen if chosen != FIT else fit_zoom(image.width(), available)
        # Nearest neighbour: pixel art stays crisp at every zoom.
        scaled = image.scaled(
            image.width() * self.zoom, image.height() * self.zoom,
            Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation,
        )
        self.sheet.setPixmap(QPixmap.fromImage(scaled))
        # Room for the whole sheet up to a sensible height; beyond that, it scrolls.
        self.scroller.setMinimumHeight(max(96, min(scaled.height() + SHEET_MARGIN, 420)))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._preview is not None and self.zoom_choice.currentData() == FIT:
            self._render()

    @Slot()
    def _on_choice_changed(self) -> None:
        self._render()


class WaveformView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.peaks: tuple[tuple[float, float], ...] = ()
        self.setMinimumHeight(110)

    def set_peaks(self, peaks: tuple[tuple[float, float], ...]) -> None:
        self.peaks = peaks
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1e1e1e"))
        middle = self.height() / 2
        painter.setPen(QPen(QColor("#555555")))
        painter.drawLine(QPointF(0, middle), QPointF(self.width(), middle))
        if self.peaks:
            painter.setPen(QPen(QColor("#4fc3f7")))
            count = len(self.peaks)
            for x in range(self.width()):
                low, high = self.peaks[x * count // max(1, self.width())]
                painter.drawLine(QPointF(x, middle - high * middle),
                                 QPointF(x, middle - low * middle))
        painter.end()


class SoundPreviewWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.waveform = WaveformView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.facts)
        layout.addWidget(self.waveform)

    def show_preview(self, preview: SoundPreview) -> None:
        channels = {1: "mono", 2: "stereo"}.get(preview.channels, f"{preview.channels} channels")
        listed = ", ".join(
            f"{sid} ({frames / preview.sample_rate:.2f} s)" if preview.sample_rate else sid
            for sid, frames in preview.samples
        )
        self.facts.setText(
            f"Duration {preview.duration_s:.2f} s · {preview.sample_rate:,} Hz · {channels} · "
            f"{len(preview.samples)} sample(s){': ' + listed if listed else ''}"
        )
        self.waveform.set_peaks(preview.peaks)


class RawPreviewWidget(QWidget):
    """A raw asset's size and its first bytes (hex and ASCII), as many a line as fit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._head = b""
        self.per_line = DUMP_WIDTHS[0]
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.dump = QLabel()
        self.dump.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.dump.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dump.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.dump.setAccessibleName("First bytes")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.facts)
        layout.addWidget(self.dump)

    def show_preview(self, preview: RawPreview) -> None:
        self._head = preview.head
        self.facts.setText(preview.facts)
        self._render()

    def _render(self) -> None:
        metrics = self.dump.fontMetrics()
        for per_line in DUMP_WIDTHS:
            # "0000  " + "xx " per byte + two spaces + one character per byte
            if metrics.horizontalAdvance("0" * (8 + 4 * per_line)) <= self.width():
                break
        self.per_line = per_line
        self.dump.setText(hex_dump(self._head, per_line))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._head:
            self._render()


class AssetPreviewPanel(QWidget):
    """Holds whichever preview fits the asset; a message while loading or when there is none.

    Not a QStackedWidget: a stack is as tall as its tallest page, even hidden (a raw asset's
    message would sit above the glyph sheet's empty height). Here hidden pages take no room.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.glyph = GlyphPreviewWidget()
        self.sound = SoundPreviewWidget()
        self.raw = RawPreviewWidget()
        self.pages: tuple[QWidget, ...] = (self.message, self.glyph, self.sound, self.raw)
        self._current: QWidget = self.message
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for page in self.pages:
            layout.addWidget(page)
            page.setVisible(page is self._current)
        self.show_message("Select an asset to preview it.")

    def currentWidget(self) -> QWidget:  # noqa: N802 (QStackedWidget's name, for familiarity)
        return self._current

    def setCurrentWidget(self, page: QWidget) -> None:  # noqa: N802
        if page is self._current:
            return
        self._current.hide()
        self._current = page
        page.show()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.setCurrentWidget(self.message)

    def show_preview(self, preview: AssetPreview) -> None:
        match preview:
            case GlyphPreview():
                self.glyph.show_preview(preview)
                self.setCurrentWidget(self.glyph)
            case SoundPreview():
                self.sound.show_preview(preview)
                self.setCurrentWidget(self.sound)
            case RawPreview():
                self.setCurrentWidget(self.raw)
                self.raw.show_preview(preview)
            case NoPreview(reason=reason):
                self.show_message(reason)
