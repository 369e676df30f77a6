"""The real Tây Ninh agency list (``shared/domain/samples``, beside the checkout, never copied into
the project: tests that read it skip when it is absent), and what importing it over the national
list changes."""

from __future__ import annotations

from pathlib import Path

TAYNINH = Path(__file__).resolve().parents[2] / "shared" / "domain" / "samples" / "tayninh_agency_codes_qcvn102.csv"

#: The renames the Tây Ninh list makes over the national list: the province's own and seven ministries'.
RENAMED_BY_TAYNINH = {
    "000.00.00.H53": ("Ủy ban nhân dân tỉnh Tây Ninh", "UBND Tỉnh Tây Ninh"),
    "000.00.00.G05": ("Bộ Kế hoạch và Đầu tư", "Bộ Kế hoạch Đầu tư"),
    "000.00.00.G07": ("Bộ Lao động - Thương binh và Xã hội", "Bộ Lao động, Thương binh và Xã hội"),
    "000.00.00.G16": ("Bộ Văn hóa, Thể thao và Du lịch", "Bộ Văn hóa-Thể thao-Du lịch"),
    "000.00.00.G18": ("Bộ Y tế", "Bộ Y Tế"),
    "000.00.00.G21": ("Ủy ban Dân tộc", "Ủy Ban Dân tộc TƯ"),
    "000.00.00.G27": ("Đài Tiếng nói Việt Nam", "Đài tiếng nói Việt Nam"),
    "000.00.00.G28": ("Đài Truyền hình Việt Nam", "Đài truyền hình Việt Nam"),
}
