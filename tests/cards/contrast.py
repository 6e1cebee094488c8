"""WCAG 2 contrast of a card's text, computed from an Adaptive Cards host config (Teams' own).

Every TextBlock and every FactSet title and value is drawn in its container style's foreground
colour (`color`, `isSubtle`; facts take the host config's `factSet` settings) over that style's
background; a container without a style keeps its parent's. Colours are `#AARRGGBB` (eight hex
digits, the renderers' convention) or `#RRGGBB`; a translucent foreground is blended over its
background first. Large text (WCAG: 18 pt, or 14 pt bold, i.e. 24 px or 18.67 px bold, with the
config's own pixel sizes) needs 3:1, all other text 4.5:1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

LARGE_PX = 24.0
LARGE_BOLD_PX = 18.0 + 2.0 / 3.0
BOLD_WEIGHT = 600


@dataclass(frozen=True)
class TextUse:
    """One piece of text as the renderer draws it."""

    text: str
    style: str
    color: str
    subtle: bool
    size: str
    weight: str


@dataclass(frozen=True)
class Finding:
    """One text's contrast in one host config."""

    use: TextUse
    foreground: str
    background: str
    ratio: float
    needed: float


def rgba(value: str) -> tuple[float, float, float, float]:
    """`#AARRGGBB` or `#RRGGBB` → (r, g, b, alpha), each 0..1."""
    digits = value.lstrip("#")
    if len(digits) == 8:
        alpha, digits = int(digits[:2], 16) / 255, digits[2:]
    elif len(digits) == 6:
        alpha = 1.0
    else:
        raise ValueError(f"not a colour: {value!r}")
    r, g, b = (int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b, alpha


def blend(foreground: str, background: str) -> tuple[float, float, float]:
    """The colour a translucent foreground shows over an opaque background."""
    fr, fg, fb, alpha = rgba(foreground)
    br, bg, bb, back_alpha = rgba(background)
    if back_alpha < 1:
        raise ValueError(f"a translucent background ({background}) needs what is behind it")
    return tuple(alpha * f + (1 - alpha) * b for f, b in ((fr, br), (fg, bg), (fb, bb)))  # type: ignore[return-value]


def luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of (possibly translucent) text over an opaque background."""
    lighter, darker = sorted((luminance(blend(foreground, background)), luminance(blend(background, background))), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_uses(card: dict[str, Any], host_config: dict[str, Any]) -> Iterator[TextUse]:
    """Every text the card draws, with the container style it sits in."""
    fact_set = host_config.get("factSet", {})
    title, value = fact_set.get("title", {}), fact_set.get("value", {})

    def walk(node: Any, style: str) -> Iterator[TextUse]:
        if isinstance(node, list):
            for item in node:
                yield from walk(item, style)
            return
        if not isinstance(node, dict):
            return
        style = node.get("style", style) if node.get("type") in ("Container", "Column", "ColumnSet") else style
        kind = node.get("type")
        if kind == "TextBlock":
            yield TextUse(node["text"], style, node.get("color", "Default"), bool(node.get("isSubtle")), node.get("size", "Default"), node.get("weight", "Default"))
        elif kind == "FactSet":
            for fact in node.get("facts", []):
                for config, text in ((title, fact["title"]), (value, fact["value"])):
                    yield TextUse(text, style, config.get("color", "Default"), bool(config.get("isSubtle")), config.get("size", "Default"), config.get("weight", "Default"))
        for key in ("body", "items", "columns"):
            if key in node:
                yield from walk(node[key], style)

    yield from walk(card.get("body", []), "default")


def check(card: dict[str, Any], host_config: dict[str, Any]) -> list[Finding]:
    """The contrast of every text of the card under this host config."""
    fonts = host_config["fontTypes"]["default"] if "fontTypes" in host_config else host_config["fontStyles"]["default"]
    sizes = {name.lower(): px for name, px in fonts["fontSizes"].items()}
    weights = {name.lower(): weight for name, weight in fonts["fontWeights"].items()}
    findings = []
    for use in text_uses(card, host_config):
        styles = host_config["containerStyles"]
        container = styles.get(use.style, styles["default"])
        background = container["backgroundColor"]
        colours = container["foregroundColors"][use.color.lower()]
        foreground = colours["subtle" if use.subtle else "default"]
        px = sizes[use.size.lower()]
        bold = weights[use.weight.lower()] >= BOLD_WEIGHT
        large = px >= LARGE_PX or (bold and px >= LARGE_BOLD_PX)
        findings.append(Finding(use, foreground, background, contrast(foreground, background), 3.0 if large else 4.5))
    return findings
