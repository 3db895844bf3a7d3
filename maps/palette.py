"""Colours of the maps: land use after the national classification palette, then statuses and classes.

Why one module: an official reads a map by its colours, so the same 用途 must have the same
colour on every map, in every legend and in the saved files.

Land use. SPEC §9 asks for the national land-use classification palette. The zone's planning
now uses 《国土空间调查、规划、用途管制用地用海分类指南》(自然资源部, 自然资办发〔2023〕234号,
2023-11; trial edition 2020), whose classes supersede GB/T 21010-2017 for planning maps. The
colour table used with it is 附录B「用地用海分类配色指引表」 of 《市级国土空间总体规划制图规范
（试行）》(自然资源部办公厅, 2021-03; gov.cn 政策库 2021-04-07). That table colours some classes at
the first level (耕地, 林地, 商业服务业用地, 工业用地, 仓储用地, 交通运输用地, 陆地水域, ...) and
others only at the second level (0701 城镇住宅用地, 0801 机关团体用地, 1401 公园绿地, ...).

Status (checked 2026-11 for issue 6): the printed table was NOT at hand. The values below were
compared with a third-party transcription of 附录B (a public repository's landuse_colors.js, "extracted
from the PDF"), which is evidence but not the standard itself:
- agree: 耕地, 林地, 居住用地 (= 0701 城镇住宅用地), 商业服务业用地, 工业用地, 仓储用地, 交通运输用地,
  绿地与开敞空间用地 (= 1401 公园绿地);
- changed to the transcription: 陆地水域 (was 130,200,255, a guess);
- not in the table at the first level: 公共管理与公共服务用地 (the table colours 0801–0806 one by
  one, magenta/pink/orange); ours is a landgis choice in that family.
So `LAND_USE_SOURCE_STATUS` stays `unverified`: check each value against the printed table before a
map is published as an official plan drawing. The codes are the 2023 guide's first-level codes.
"""

from __future__ import annotations

from dataclasses import dataclass

LAND_USE_SOURCE = (
    "《国土空间调查、规划、用途管制用地用海分类指南》（自然资办发〔2023〕234号）用地分类；"
    "色值依《市级国土空间总体规划制图规范（试行）》（自然资源部办公厅，2021）附录B 用地用海分类配色指引表"
)
LAND_USE_SOURCE_STATUS = "unverified"
"""`unverified`: compared with a transcription of the table, not with the printed table (see above)."""
LAND_USE_SOURCE_NOTE_ZH = "色值已与该表的第三方转录本比对，尚未与规范原文逐项核对，正式出图前请核对"


@dataclass(frozen=True)
class LandUseColour:
    code: str  # 用地用海分类 code
    name: str  # class name in the guide
    rgb: tuple[int, int, int]
    basis: str = "附录B"  # where the value comes from: 附录B (first level), 附录B 0701 (a second-level row), landgis

    @property
    def hex(self) -> str:
        return "#{:02X}{:02X}{:02X}".format(*self.rgb)


LAND_USE_CLASSES: tuple[LandUseColour, ...] = (
    LandUseColour("01", "耕地", (245, 248, 220)),
    LandUseColour("03", "林地", (104, 177, 103)),
    LandUseColour("07", "居住用地", (255, 255, 45), "附录B 0701 城镇住宅用地"),
    LandUseColour("08", "公共管理与公共服务用地", (255, 127, 191), "landgis（附录B 仅列 0801–0806 二级类）"),
    LandUseColour("09", "商业服务业用地", (255, 0, 0)),
    LandUseColour("10", "工业用地", (187, 150, 116)),
    LandUseColour("11", "仓储用地", (135, 97, 211)),
    LandUseColour("12", "交通运输用地", (183, 183, 183)),
    LandUseColour("14", "绿地与开敞空间用地", (0, 255, 0), "附录B 1401 公园绿地"),
    LandUseColour("17", "陆地水域", (51, 142, 192)),
)
_BY_NAME = {c.name: c for c in LAND_USE_CLASSES}

USE_TO_CLASS = {
    # Table 2 writes the use in one or two characters (用途: 工业/居住/仓储); map them to classes.
    "工业": "工业用地",
    "居住": "居住用地",
    "住宅": "居住用地",
    "仓储": "仓储用地",
    "物流": "仓储用地",
    "商业": "商业服务业用地",
    "商服": "商业服务业用地",
    "公共": "公共管理与公共服务用地",
    "绿地": "绿地与开敞空间用地",
    "耕地": "耕地",
    "林地": "林地",
    "水域": "陆地水域",
}
UNKNOWN_USE_COLOUR = "#9E9E9E"


def land_use_colour(use: str | None) -> str:
    """Fill colour of a 用途 text (Table 2's 工业/居住/仓储 or a class name); grey if unknown."""
    if not use:
        return UNKNOWN_USE_COLOUR
    text = str(use).strip()
    cls = _BY_NAME.get(text) or _BY_NAME.get(USE_TO_CLASS.get(text, ""))
    if cls is None:
        for key, name in USE_TO_CLASS.items():
            if key in text:
                cls = _BY_NAME[name]
                break
    return cls.hex if cls else UNKNOWN_USE_COLOUR


def land_use_class_name(use: str | None) -> str:
    if not use:
        return "未分类"
    text = str(use).strip()
    return text if text in _BY_NAME else USE_TO_CLASS.get(text, text)


# Reserve-parcel approval status (SPEC §4): shown by the outline, so the fill stays the land use.
STATUS_STROKES: dict[str, dict] = {
    "计划报批": {"color": "#616161", "weight": 2, "dashArray": "6 4"},
    "已组卷上报": {"color": "#1E88E5", "weight": 3, "dashArray": "2 4"},
    "已获批": {"color": "#2E7D32", "weight": 3, "dashArray": None},
    "已供地": {"color": "#000000", "weight": 4, "dashArray": None},
    "已注销": {"color": "#B71C1C", "weight": 2, "dashArray": "1 6"},
}

# 亩均效益 classes (SPEC §5): A best … D worst; the usual green→red reading of the Henan/Zhejiang maps.
EFFICIENCY_CLASSES: dict[str, tuple[str, str]] = {
    "A": ("#1A9850", "A类（优先发展）"),
    "B": ("#91CF60", "B类（提升发展）"),
    "C": ("#FC8D59", "C类（转型发展）"),
    "D": ("#D73027", "D类（倒逼整治）"),
}
UNCLASSED = ("#BDBDBD", "未评价/无法评价")

# 标准地 check verdicts (SPEC §6). "incomplete" is never shown as a pass.
VERDICTS: dict[str, tuple[str, str]] = {
    "pass": ("#1A9850", "达标"),
    "fail": ("#D73027", "不达标"),
    "incomplete": ("#FDD835", "资料不全"),
}

PARK_STYLE = {"color": "#6A1B9A", "weight": 2, "fillColor": "#CE93D8", "fillOpacity": 0.12, "dashArray": "8 4"}
BOUNDARY_STYLES = {
    "current": {"color": "#C62828", "weight": 3, "fill": False, "dashArray": None},
    "expansion": {"color": "#EF6C00", "weight": 3, "fill": False, "dashArray": "12 6"},
}

# Sequential ramp (ColorBrewer YlGnBu, 7 classes) for choropleths and the suitability raster.
SEQUENTIAL = ("#FFFFCC", "#C7E9B4", "#7FCDBB", "#41B6C4", "#1D91C0", "#225EA8", "#0C2C84")
SUITABILITY = ("#D7191C", "#FDAE61", "#FFFFBF", "#A6D96A", "#1A9641")  # low → high (RdYlGn)


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def quantile_breaks(values, k: int = 5) -> list[float]:
    """Lower bounds of k quantile classes of the finite values (deduplicated, ascending).

    Why quantiles: 亩均 figures are heavily skewed (a few firms pay most of the tax), so equal
    intervals would paint almost every parcel in the lowest class.
    """
    import numpy as np

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    qs = np.quantile(v, np.linspace(0, 1, k + 1)[:-1])
    out: list[float] = []
    for q in qs:
        q = float(q)
        if not out or q > out[-1]:
            out.append(q)
    return out


def ramp(n: int, colours: tuple[str, ...] = SEQUENTIAL) -> list[str]:
    """n colours spread over a ramp (n ≤ len(colours) picks evenly, keeping both ends)."""
    if n <= 0:
        return []
    if n == 1:
        return [colours[len(colours) // 2]]
    idx = [round(i * (len(colours) - 1) / (n - 1)) for i in range(n)]
    return [colours[i] for i in idx]
