"""What a destructive registry action will do, said by name before it is done.

Retiring, merging or moving an agency, unbinding a system's subtree, revoking a token or a
certificate: the administrator's form first shows a confirmation page (``confirm.html``) built
from a `Preview` here, and the action runs only on the POST that page sends (``confirm=1``). A
preview reads the registry and changes nothing; it raises the same `AxisError` the action would
(unknown agency, malformed code, …), so a mistake is refused before the question is asked.

A successor that is retired itself is not taken as it is: the preview shows its chain and offers
the active agency at the chain's end instead (the confirmed form carries that one), or, when the
chain ends at no active agency, refuses with the chain shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from axis.errors import AxisError
from axis.registry import agencies, codes, systems
from axis.registry.model import Agency
from axis.registry.resolve import Resolver
from axis.store.db import Conn
from axis.web import vietnamese

NAMED = 10  # agencies named in a sentence before "và N cơ quan khác"


@dataclass
class Preview:
    title: str
    subject: str
    consequences: list[str]
    action: str
    fields: dict[str, str]
    button: str
    back: str
    back_label: str
    danger: bool = True
    chain: list[Agency] = field(default_factory=list)
    blocked: str | None = None
    """Why the action cannot be confirmed as asked (the page then offers only the way back)."""


def label(agency: Agency) -> str:
    """``«Sở Tài chính» (000.00.11.H99)``."""
    return f"«{agency.name}» ({agency.code})"


def _names(found: list[Agency], total: int) -> str:
    named = ", ".join(label(a) for a in found[:NAMED])
    more = total - min(len(found), NAMED)
    return named + (f" và {more} cơ quan khác" if more > 0 else "")


def _served(resolver: Resolver, agency: Agency) -> str:
    system = resolver.serving_system(agency.code)
    if system is None:
        return f"chưa có hệ thống nào phục vụ {agency.code}: trục sẽ từ chối văn bản gửi tới cho tới khi có"
    state = "" if system.active else ", đang bị vô hiệu hóa"
    return f"do {vietnamese.system_label(system.id, system.name)}{state} nhận"


# --- agencies -------------------------------------------------------------------------------------------


async def retire(
    conn: Conn, resolver: Resolver, code: str, successor: str | None, *, action: str, merge: bool
) -> Preview:
    """Retiring `code` (``merge``: into `successor`, as a merger) as the page will ask it."""
    agency = await agencies.require(conn, code)
    preview = Preview(
        title="Xác nhận sáp nhập cơ quan" if merge else "Xác nhận giải thể cơ quan",
        subject=f"{'Sáp nhập' if merge else 'Giải thể'} {label(agency)}",
        consequences=[],
        action=action,
        fields={},
        button="Xác nhận sáp nhập" if merge else "Xác nhận giải thể",
        back=_agency_url(agency.code),
        back_label=agency.name,
    )
    target = None
    if successor or merge:  # a merger without the agency to merge into is refused here (unknown code)
        target = await _successor(conn, preview, agency, successor or "")
        if target is None:
            return preview
        preview.fields["into" if merge else "successor"] = target.code
    said = preview.consequences
    if merge and target is not None:
        said.append(f"{label(agency)} được sáp nhập vào {label(target)} và thôi hoạt động (Đã giải thể).")
    else:
        said.append(f"{label(agency)} thôi hoạt động (Đã giải thể).")
    if target is not None:
        said.append(f"Văn bản gửi tới {agency.code} từ nay chuyển cho {label(target)}, {_served(resolver, target)}.")
    else:
        said.append(f"Không có cơ quan kế thừa: trục sẽ từ chối văn bản gửi tới {agency.code}.")
    earlier = await agencies.predecessors(conn, agency.code, limit=NAMED + 1)
    if earlier:
        onward = f"chuyển tiếp tới {label(target)}" if target else "bị từ chối"
        said.append(
            f"Các cơ quan đã giải thể đang chuyển văn bản cho {agency.code} ({_names(earlier, len(earlier))}): "
            f"văn bản của chúng sẽ {onward}."
        )
    children = [c for c in await agencies.children(conn, agency.code) if not c.retired]
    if children:
        said.append(
            f"{len(children)} cơ quan trực thuộc vẫn hoạt động và vẫn nhận văn bản, không bị giải thể theo: "
            f"{_names(children, len(children))}."
        )
    said.append("Có thể khôi phục hoạt động sau (nút “Khôi phục hoạt động” trên trang cơ quan).")
    return preview


async def _successor(conn: Conn, preview: Preview, agency: Agency, successor: str) -> Agency | None:
    """The successor to name: the one asked, or the active end of its chain when it is retired."""
    try:
        return await agencies.check_successor(conn, agency.code, successor)
    except AxisError as exc:
        if exc.details.get("reason") != "retired":
            raise
        chain_codes: list[str] = exc.details["chain"]
        active: str | None = exc.details["active"]
    preview.chain = [await agencies.require(conn, c) for c in chain_codes]
    asked = preview.chain[0]
    if active is None:
        preview.blocked = (
            f"Cơ quan kế thừa {label(asked)} đã giải thể, và chuỗi kế thừa của nó không dẫn tới cơ quan nào đang "
            f"hoạt động{' (nó quay về chính cơ quan này)' if agency.code in chain_codes else ''}: "
            "hãy chọn một cơ quan kế thừa khác."
        )
        return None
    target = await agencies.require(conn, active)
    preview.consequences.append(
        f"Cơ quan kế thừa đã nhập, {label(asked)}, đã giải thể; văn bản gửi tới nó đang chuyển theo chuỗi "
        f"trên tới {label(target)}. Trục sẽ ghi {label(target)}, cơ quan đang hoạt động ở cuối chuỗi, "
        "làm cơ quan kế thừa."
    )
    return target


async def move(conn: Conn, resolver: Resolver, code: str, new_code: str, *, action: str) -> Preview:
    """Moving `code` to `new_code` (a new place in the tree), checked as ``agencies.move`` will."""
    agency = await agencies.require(conn, code)
    new = codes.parse(new_code)
    if await agencies.get(conn, new.text) is not None:
        raise AxisError("registry.agency.exists", f"The agency {new.text} already exists.", agency_code=new.text)
    parent = await agencies.get(conn, new.parent.text) if new.parent else None
    if new.parent is not None and parent is None:
        raise AxisError(
            "registry.agency.parent_missing",
            f"The parent {new.parent.text} of {new.text} is not in the registry; add it first.",
            agency_code=new.text,
            parent=new.parent.text,
        )
    old_parent = await agencies.get(conn, agency.parent_code) if agency.parent_code else None
    where = label(parent) if parent else "cấp cao nhất"
    was = label(old_parent) if old_parent else (agency.parent_code or "cấp cao nhất")
    said = [
        f"{label(agency)} nhận mã mới {new.text}, thuộc {where} (thay vì {was}).",
        f"Mã cũ {agency.code} được giải thể với {new.text} là cơ quan kế thừa: văn bản gửi tới mã cũ vẫn đến "
        f"nơi, {_served(resolver, Agency(new.text, agency.name, new.parent.text if new.parent else None))}.",
    ]
    children = await agencies.children(conn, agency.code)
    if children:
        said.append(
            f"{len(children)} cơ quan trực thuộc mã cũ giữ nguyên mã và vẫn thuộc {agency.code}: "
            f"{_names(children, len(children))}."
        )
    return Preview(
        title="Xác nhận chuyển mã cơ quan",
        subject=f"Chuyển {label(agency)} sang mã {new.text}",
        consequences=said,
        action=action,
        fields={"new_code": new.text},
        button="Xác nhận chuyển mã",
        back=_agency_url(agency.code),
        back_label=agency.name,
    )


async def reactivate(conn: Conn, resolver: Resolver, code: str, *, action: str) -> Preview:
    """Bringing a retired agency back."""
    agency = await agencies.require(conn, code)
    said = []
    if not agency.retired:
        said.append(f"{label(agency)} đang hoạt động: không có gì thay đổi.")
    else:
        successor = await agencies.get(conn, agency.successor_code) if agency.successor_code else None
        instead = f" thay vì chuyển cho {label(successor)}" if successor else ""
        said.append(f"{label(agency)} hoạt động trở lại và không còn cơ quan kế thừa.")
        said.append(f"Văn bản gửi tới {agency.code} sẽ đến chính cơ quan này{instead}, {_served(resolver, agency)}.")
        earlier = await agencies.predecessors(conn, agency.code, limit=NAMED + 1)
        if earlier:
            said.append(
                f"Các cơ quan đã giải thể chuyển văn bản cho {agency.code} ({_names(earlier, len(earlier))}): "
                f"văn bản của chúng cũng sẽ đến {agency.code}."
            )
        parent = await agencies.get(conn, agency.parent_code) if agency.parent_code else None
        if parent is not None and parent.retired:
            said.append(f"Lưu ý: cơ quan cấp trên {label(parent)} vẫn ở trạng thái đã giải thể.")
    return Preview(
        title="Xác nhận khôi phục hoạt động",
        subject=f"Khôi phục {label(agency)}",
        consequences=said,
        action=action,
        fields={},
        button="Xác nhận khôi phục",
        back=_agency_url(agency.code),
        back_label=agency.name,
        danger=False,
    )


def _agency_url(code: str) -> str:
    return f"/ui/admin/agencies/{code}"


# --- systems --------------------------------------------------------------------------------------------


async def unbind(conn: Conn, resolver: Resolver, system_id: str, code: str, *, action: str, back: str) -> Preview:
    """Removing `system_id`'s binding of `code`: who serves the subtree afterwards."""
    system = await systems.require(conn, system_id)
    if code not in await systems.bindings(conn, system_id):
        raise AxisError(
            "registry.binding.unknown", f"{system_id} has no binding for {code}.", system=system_id, agency_code=code
        )
    agency = await agencies.get(conn, code)
    named = label(agency) if agency else code
    bindings = resolver.snapshot.bindings
    above = next((a.text for a in codes.parse(code).ancestors() if a.text in bindings), None)
    said = [f"{vietnamese.system_label(system.id, system.name)} thôi phục vụ {named} và các cơ quan trực thuộc."]
    if above is not None:
        heir = resolver.snapshot.systems.get(bindings[above])
        heir_label = vietnamese.system_label(heir.id, heir.name) if heir else bindings[above]
        said.append(f"Từ nay văn bản gửi tới các cơ quan này do {heir_label} nhận (qua phạm vi {above}).")
    else:
        said.append("Không còn hệ thống nào phục vụ các cơ quan này: trục sẽ từ chối văn bản gửi tới chúng.")
    narrower = sorted(c for c in bindings if c != code and codes.parse(c).is_within(codes.parse(code)))
    if narrower:
        said.append(f"Các phạm vi hẹp hơn bên dưới vẫn giữ hệ thống của chúng: {', '.join(narrower[:NAMED])}.")
    said.append("Văn bản đang chờ hệ thống này nhận vẫn ở lại hàng đợi của nó.")
    return Preview(
        title="Xác nhận bỏ phạm vi phục vụ",
        subject=f"Bỏ phạm vi {code} khỏi hệ thống {system.id}",
        consequences=said,
        action=action,
        fields={"agency_code": code},
        button="Xác nhận bỏ phạm vi",
        back=back,
        back_label=system.name,
    )


async def revoke_token(conn: Conn, system_id: str, token_id: int, *, action: str, back: str) -> Preview:
    system = await systems.require(conn, system_id)
    tokens = [t for t in await systems.list_tokens(conn, system_id) if t.revoked_at is None]
    token = next((t for t in tokens if t.id == token_id), None)
    if token is None:
        raise AxisError(
            "registry.token.unknown",
            f"{system_id} has no active token {token_id}.",
            system=system_id,
            token_id=token_id,
        )
    named = f"Token #{token.id}" + (f" «{token.label}»" if token.label else "")
    said = [
        f"{named} của {vietnamese.system_label(system.id, system.name)}, cấp lúc {vietnamese.clock(token.created_at)}, "
        "hết hiệu lực ngay: mọi yêu cầu dùng token này bị trục từ chối.",
    ]
    others = len(tokens) - 1
    if others:
        said.append(f"Hệ thống còn {others} token khác đang hiệu lực.")
    else:
        said.append(
            "Đây là token còn hiệu lực cuối cùng của hệ thống: hệ thống sẽ không gọi được API của trục "
            "(gửi, nhận văn bản qua HTTP) cho tới khi được cấp token mới."
        )
    return Preview(
        title="Xác nhận thu hồi token",
        subject=f"Thu hồi {named} của hệ thống {system.id}",
        consequences=said,
        action=action,
        fields={"token_id": str(token.id)},
        button="Xác nhận thu hồi token",
        back=back,
        back_label=system.name,
    )


async def revoke_certificate(conn: Conn, system_id: str, fingerprint: str, *, action: str, back: str) -> Preview:
    system = await systems.require(conn, system_id)
    found = await systems.certificates(conn, system_id)
    now = dt.datetime.now(dt.UTC)
    certificate = next((c for c in found if c.fingerprint == fingerprint.lower() and not c.revoked), None)
    if certificate is None:
        raise AxisError(
            "registry.certificate.unknown", f"No active certificate {fingerprint}.", fingerprint=fingerprint
        )
    agency = f", mã cơ quan {certificate.agency_code}" if certificate.agency_code else ""
    said = [
        f"Chứng thư số «{certificate.subject}» ({certificate.fingerprint[:16]}…{agency}), hiệu lực đến "
        f"{vietnamese.date(certificate.not_after)}, bị thu hồi ngay: trục từ chối gói tin ký bằng chứng thư này.",
    ]
    if system.require_client_certificate:
        said.append("Hệ thống bắt buộc TLS hai chiều: kết nối dùng chứng thư này cũng bị từ chối.")
    others = [c for c in found if c is not certificate and not c.revoked and c.not_before <= now < c.not_after]
    if others:
        said.append(f"Hệ thống còn {len(others)} chứng thư số khác còn hiệu lực.")
    else:
        said.append(
            "Đây là chứng thư số còn hiệu lực cuối cùng của hệ thống: hệ thống sẽ không gửi được văn bản ký số "
            "cho tới khi được gắn chứng thư mới."
        )
    return Preview(
        title="Xác nhận thu hồi chứng thư số",
        subject=f"Thu hồi chứng thư số của hệ thống {system.id}",
        consequences=said,
        action=action,
        fields={"fingerprint": certificate.fingerprint},
        button="Xác nhận thu hồi chứng thư",
        back=back,
        back_label=system.name,
    )
