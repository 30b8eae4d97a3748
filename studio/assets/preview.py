"""Preview widgets: a glyph sheet with zoom and palette choice; a sound's facts and waveform."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, Qt, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.assets.preview_data import (
    GLYPH_SHEET,
    AssetPreview,
    GlyphPreview,
    NoPreview,
    SoundPreview,
)

AS_BUILT = -1
FIT = 0  # the largest whole zoom at which the used tiles fit the pane's width
ZOOMS = (1, 2, 3, 4, 6, 8)
MAX_FIT_ZOOM = 8
FALLBACK_FIT_ZOOM = 4  # before the pane has a width
SHEET_MARGIN = 8


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


class GlyphPreviewWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._preview: GlyphPreview | None = None
        self.palette_choice = QComboBox()
        self.palette_choice.setToolTip("Draw every tile with its own palette (as built) or all "
                                       "tiles with one palette")
        self.zoom_choice = QComboBox()
        self.zoom_choice.setToolTip("Zoom (pixels stay sharp); Fit fills the pane's width")
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
        self.palette_choice.addItem("As built (each tile's palette)", AS_BUILT)
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
        if image.isNull():
            self.sheet.clear()
            return
        chosen = int(self.zoom_choice.currentData() or FIT)
        available = self.scroller.viewport().width() - SHEET_MARGIN
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


class AssetPreviewPanel(QStackedWidget):
    """Holds whichever preview fits the asset; a message while loading or when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.glyph = GlyphPreviewWidget()
        self.sound = SoundPreviewWidget()
        for widget in (self.message, self.glyph, self.sound):
            self.addWidget(widget)
        self.show_message("Select an asset to preview it.")

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
            case NoPreview(reason=reason):
                self.show_message(reason)
