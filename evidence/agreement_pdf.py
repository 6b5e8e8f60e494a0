"""The signed agreement rendered as a one-page PDF with Pillow, in a CJK-capable font.

The font (Noto Sans SC, SIL OFL) is a Python dependency of the project (``pylopdf-fonts-zh-cn``),
so ``uv sync`` installs it on a fresh machine. Rendering is deterministic: the same terms and
signature give the same bytes (the PDF dates are the signing time), so the recorded sha256 can be
re-derived by anyone with the inputs.
"""

from __future__ import annotations

import io
from datetime import UTC
from functools import lru_cache
from pathlib import Path
from typing import Any

import PIL
from PIL import Image, ImageDraw, ImageFont

from evidence.agreement_terms import Terms

PAGE = (1240, 1754)  # A4 at 150 dpi
MARGIN = 90


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Noto Sans SC, installed with the project's dependencies."""
    from pylopdf_fonts_zh_cn import sans_path

    path = Path(sans_path())
    if not path.is_file():  # pragma: no cover - a broken install
        raise FileNotFoundError(f"the CJK font is missing at {path}; run `uv sync`")
    return path


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path()), size)


def _lines(terms: Terms, agreement_id: str) -> list[tuple[str, int]]:
    lines = [
        ("还款协议 Repayment Agreement", 44),
        (f"协议编号 Agreement no.: {agreement_id}", 22),
        ("", 16),
        (f"债权人 Creditor: {terms.creditor}", 26),
        (
            f"债务人 Debtor: {terms.debtor_name}"
            + (f" (证件尾号 {terms.debtor_id_last4})" if terms.debtor_id_last4 else ""),
            26,
        ),
        (f"外访人员 Collector: {terms.collector_name}", 26),
        (f"还款总额 Total: {terms.amount} {terms.currency}", 30),
        (f"还款方式 Payment method: {terms.payment_method}", 26),
        ("分期计划 Instalments:", 26),
    ]
    for number, instalment in enumerate(terms.instalments, start=1):
        lines.append((f"  {number:>2}. {instalment.due_date.isoformat()}   {instalment.amount} {terms.currency}", 24))
    lines += [
        ("", 16),
        (f"签署地点 Place: {terms.place}", 24),
        (f"签署时间 Signed at: {terms.signed_at.isoformat()}", 24),
        ("债务人签名 Debtor's signature:", 26),
    ]
    return lines


def render_agreement_pdf(
    terms: Terms, signature_png: bytes, agreement_id: str, hashes: dict[str, str]
) -> tuple[bytes, dict[str, Any]]:
    """The PDF bytes and the recipe that made them."""
    page = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(page)
    y = MARGIN
    for text, size in _lines(terms, agreement_id):
        draw.text((MARGIN, y), text, fill="black", font=_font(size))
        y += int(size * 1.6)
    with Image.open(io.BytesIO(signature_png)) as signature:
        ink = signature.convert("L")
        ink.thumbnail((PAGE[0] - 2 * MARGIN, 260))
        page.paste(ink, (MARGIN, y + 10))
    footer = PAGE[1] - MARGIN - 4 * 24
    for label, digest in sorted(hashes.items()):
        draw.text((MARGIN, footer), f"sha256 {label}: {digest}", fill="#444444", font=_font(18))
        footer += 26
    out = io.BytesIO()
    signed = terms.signed_at.astimezone(UTC).timetuple()
    page.save(
        out, "PDF", resolution=150, title=f"Repayment agreement {agreement_id}", creationDate=signed, modDate=signed
    )
    recipe = {
        "tool": f"Pillow {PIL.__version__}",
        "font": cjk_font_path().name,
        "page": "A4 150 dpi",
        "inputs": sorted(hashes),
    }
    return out.getvalue(), recipe
