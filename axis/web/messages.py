"""Every word a person reads about a refusal, a change or a failure, in Vietnamese, from one place.

``MESSAGES`` holds a Vietnamese text for every code of ``axis.errors.CATALOGUE`` (a test keeps the
two equal), and ``message(error)`` fills it from the error's details. A template names details as
``str.format`` fields, but only inside an optional segment in square brackets: ``[ «{agency_code}»]``
is kept when the error carries ``agency_code`` and dropped when it does not, and ``[A|B|C]`` keeps
the first alternative whose details are all there (a last one without fields is the fallback). So
every template reads well with no details at all, and no raise site can make ``message`` fail or
show English. A format spec names how a value is shown: ``{size:bytes}`` ``1,2 MB``,
``{revoked_at:time}`` in Vietnam time, ``{chain:chain}`` ``A → B``, ``{code:status}``
``05 (Đang xử lý)``, ``{package_ids:count}`` the number of items.

The history's before/after values are worded by ``axis.web.wording``, the free-text reasons the
database stores by ``axis.web.reasons``, what was found in a document's files (``file.*``) by
``axis.web.file_wording``.

Pure functions over values; nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from axis.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from axis.errors import AxisError
from axis.web import file_wording, vietnamese

# --- refusals ------------------------------------------------------------------------------------------

#: code -> the Vietnamese template of its refusal (the notation is in the module's docstring).
MESSAGES: Mapping[str, str] = {
    # Raw bytes and XML well-formedness
    "edxml.xml.empty": "Gói tin rỗng: không có nội dung nào được gửi lên.",
    "edxml.xml.too_large": (
        "Gói tin vượt quá giới hạn dung lượng[ {limit:bytes}] đã cấu hình trên trục[ (gói tin có {size:bytes})]."
    ),
    "edxml.xml.bad_utf8": (
        "Nội dung gói tin không phải văn bản UTF-8 hợp lệ[ (lỗi tại byte thứ {offset})]; "
        "gói tin edXML chỉ dùng bảng mã UTF-8."
    ),
    "edxml.xml.encoding": "Khai báo XML của gói tin dùng bảng mã khác UTF-8; gói tin edXML phải dùng UTF-8.",
    "edxml.xml.malformed": "Gói tin không phải XML hợp lệ (sai cú pháp)[ tại dòng {line}][, cột {column}].",
    "edxml.xml.dtd_forbidden": "Gói tin có khai báo DOCTYPE (DTD); gói tin edXML không được chứa DTD.",
    "edxml.xml.entity_forbidden": (
        "Gói tin có khai báo hoặc tham chiếu thực thể XML (entity), điều gói tin edXML không được dùng[ (dòng {line})]."
    ),
    "edxml.xml.too_deep": "Các phần tử XML trong gói tin lồng nhau quá sâu[ (tối đa {limit} cấp)][, tại dòng {line}].",
    "edxml.xml.too_many_elements": (
        "Gói tin có quá nhiều phần tử XML[ ({elements:n} phần tử)][; tối đa {limit:n} phần tử]."
    ),
    # Document shape
    "edxml.root.wrong_namespace": (
        "Phần tử gốc của gói tin không thuộc không gian tên edXML của QCVN 102:2016[ (đang là «{namespace}»)]."
    ),
    "edxml.root.wrong_element": "Phần tử gốc của gói tin không phải edXML[ (đang là «{element}»)].",
    "edxml.kind.unknown": (
        "Gói tin không phải văn bản điện tử cũng không phải gói tin trạng thái (thiếu phần edXMLEnvelope/edXMLHeader)."
    ),
    "edxml.schema.invalid": (
        "Gói tin không đúng lược đồ edXML (QCVN 102:2016)[ tại {path:xpath}][ (dòng {line})][; cần có: {expected}]."
    ),
    "edxml.agency_code.malformed": (
        "Mã định danh cơ quan (OrganId)[ «{code}»] không đúng định dạng[ tại {path:xpath}][ (dòng {line})]."
    ),
    "edxml.status_code.unknown": (
        "Mã trạng thái (StatusCode) không thuộc các mã trạng thái của QCVN 102 (01, 02, 03, 04, 05, 06, 13, 15, 16)"
        "[ tại {path:xpath}][ (dòng {line})]."
    ),
    "edxml.business_doc_type.unknown": (
        "Loại nghiệp vụ (BussinessDocType) phải là 0 (văn bản mới), 1 (thu hồi), 2 (cập nhật) hoặc 3 (thay thế)"
        "[ tại {path:xpath}][ (dòng {line})]."
    ),
    "edxml.date.invalid": (
        "Ngày tháng không hợp lệ: phải là một ngày có thật, viết dạng YYYY/MM/DD hoặc DD/MM/YYYY"
        "[ tại {path:xpath}][ (dòng {line})]."
    ),
    "edxml.timestamp.invalid": (
        "Thời điểm không hợp lệ: phải viết dạng «YYYY/MM/DD HH:MM:SS» hoặc ISO 8601[ tại {path:xpath}][ (dòng {line})]."
    ),
    "edxml.document_id.malformed": (
        "Mã văn bản (DocumentId)[ «{document_id}»] không đúng dạng «mã cơ quan gửi,ngày ban hành,số/ký hiệu»"
        "[ tại {path:xpath}][ (dòng {line})]."
    ),
    "edxml.document_id.sender_mismatch": (
        "Mã văn bản (DocumentId)[ «{document_id}»] không bắt đầu bằng mã của cơ quan gửi: chỉ cơ quan ban hành "
        "văn bản mới được gửi, thu hồi, cập nhật hay thay thế văn bản đó."
    ),
    "edxml.header.missing": (
        "Gói tin thiếu thành phần bắt buộc[ «{element}»] trong phần thông tin chung (MessageHeader)."
    ),
    "edxml.header.duplicate": "Thành phần[ «{element}»] chỉ được có một lần nhưng xuất hiện nhiều lần trong gói tin.",
    "edxml.attachment.bad_base64": (
        "Nội dung tệp đính kèm (ContentTransferEncoded) không phải dữ liệu base64 hợp lệ[ tại {path:xpath}]."
    ),
    "edxml.attachment.unreferenced": (
        "Gói tin có tệp đính kèm không được liệt kê trong danh mục tệp đính kèm (manifest)[ tại {path:xpath}]."
    ),
    "edxml.attachment.missing": (
        "Danh mục tệp đính kèm (manifest) liệt kê tệp[ «{content_ids}»] nhưng gói tin không có tệp đính kèm "
        "mang mã ContentId đó."
    ),
    "edxml.attachment.duplicate_id": "Hai tệp đính kèm trùng mã ContentId[ tại {path:xpath}].",
    "edxml.replacement.missing": (
        "Văn bản thay thế (loại nghiệp vụ 3) phải nêu văn bản bị thay thế trong ReplacementInfoList."
    ),
    # XML Signature
    "signature.missing": "Gói tin không có chữ ký số XML (ds:Signature).",
    "signature.multiple": "Gói tin có nhiều hơn một chữ ký số XML; gói tin edXML chỉ được có một chữ ký.",
    "signature.location": (
        "Chữ ký số XML không nằm ở vị trí edXML quy định (trong edXMLEnvelope/edXMLHeader)[; đang ở {path:xpath}]."
    ),
    "signature.malformed": "Phần tử chữ ký số XML thiếu thành phần hoặc không đúng lược đồ[ tại {path:xpath}].",
    "signature.reference.not_whole_document": "Chữ ký số không phủ toàn bộ gói tin.",
    "signature.algorithm.forbidden": (
        "Thuật toán ký hoặc thuật toán băm[ «{algorithm}»] không được chính sách chữ ký của hệ thống gửi chấp nhận "
        "(SHA-1 chỉ được chấp nhận khi quản trị viên cho phép với hệ thống đó)."
    ),
    "signature.digest_mismatch": "Nội dung gói tin đã bị thay đổi sau khi ký số.",
    "signature.invalid": "Chữ ký số không hợp lệ: giá trị chữ ký không khớp với khóa của người ký.",
    "signature.certificate.missing": "Chữ ký số không kèm chứng thư số X.509 của người ký.",
    "signature.certificate.malformed": "Không đọc được chứng thư số của người ký.",
    "signature.certificate.untrusted": (
        "Chứng thư số của người ký không do tổ chức chứng thực tin cậy cấp (không xác lập được chuỗi tin cậy)."
    ),
    "signature.certificate.expired": (
        "Chứng thư số của người ký[ ({subject})] đã hết hạn hoặc chưa đến thời gian có hiệu lực."
    ),
    "signature.certificate.key_usage": (
        "Chứng thư số của người ký không được phép dùng để ký số (mục đích sử dụng khóa không phù hợp)."
    ),
    # Receipts
    "receipt.malformed": (
        "Dữ liệu không phải biên nhận của trục (sai cấu trúc XML, phần tử, giá trị hoặc thành phần chữ ký)."
    ),
    "receipt.unsigned": "Biên nhận không có chữ ký số XML.",
    "receipt.signature.misplaced": "Chữ ký số XML của biên nhận phải là một phần tử con duy nhất của phần tử gốc.",
    "receipt.signature.partial": "Chữ ký số của biên nhận không phủ toàn bộ biên nhận.",
    "receipt.algorithm.forbidden": (
        "Chữ ký của biên nhận phải dùng RSA hoặc ECDSA với SHA-2[ (đang dùng «{algorithm}»)]."
    ),
    "receipt.invalid": "Biên nhận đã bị thay đổi sau khi ký, hoặc chữ ký số của biên nhận không hợp lệ.",
    "receipt.certificate.untrusted": "Chứng thư số ký biên nhận không do tổ chức chứng thực tin cậy cấp.",
    "receipt.certificate.expired": (
        "Chứng thư số ký biên nhận[ ({subject})] đã hết hạn hoặc chưa đến thời gian có hiệu lực."
    ),
    # The signatures inside document files (axis.files): what was found, worded once where the clerk reads
    # it (axis.web.file_wording), and the one refusal it can cause, under the sending system's policy.
    **{code: f"{text}." for code, text in file_wording.PROBLEMS.items()},
    "file.signature.required": (
        "Chính sách của hệ thống gửi yêu cầu tệp chính của văn bản phải có chữ ký số hợp lệ của cơ quan gửi; "
        "tệp chính của văn bản này không có chữ ký số đó nên trục không tiếp nhận."
    ),
    # Agency identifier codes
    "agency_code.malformed": (
        "[«{agency_code}» không phải mã định danh cơ quan hợp lệ|Mã định danh cơ quan không đúng định dạng]"
        "[ {form:form}]."
    ),
    # The registry
    "registry.agency.unknown": (
        "Danh bạ không có cơ quan nào mang mã[ «{agency_code}»| này][ (chuỗi cơ quan kế thừa: {chain:chain})]."
    ),
    "registry.agency.exists": (
        "Đã có [cơ quan mang mã «{agency_code}»|cơ quan khác mang mã QĐ 20/2020 «{code_qd20}»|cơ quan mang mã này]."
    ),
    "registry.agency.parent_missing": (
        "Danh bạ chưa có cơ quan cấp trên[ «{parent}»] của mã[ «{agency_code}»| này]; hãy thêm cơ quan cấp trên trước."
    ),
    "registry.agency.retired": "Cơ quan[ «{agency_code}»] đã giải thể[; cơ quan kế thừa là «{successor_code}»].",
    "registry.agency.retired_without_successor": (
        "Cơ quan[ «{agency_code}»] đã giải thể và không có cơ quan kế thừa[ (chuỗi cơ quan kế thừa: {chain:chain})]."
    ),
    "registry.agency.successor_cycle": (
        "Chuỗi cơ quan kế thừa[ của «{requested}»] tạo thành vòng lặp[: {chain:chain}]."
    ),
    "registry.agency.successor_invalid": (
        "Cơ quan kế thừa không hợp lệ: không có trong danh bạ, đã giải thể, "
        "hoặc chính là cơ quan[ «{agency_code}»| đó]."
    ),
    "registry.agency.successor_invalid:itself": "Cơ quan[ «{agency_code}»| này] không thể kế thừa chính nó.",
    "registry.agency.successor_invalid:retired": (
        "Cơ quan kế thừa[ «{successor}»] cũng đã giải thể[ (chuỗi cơ quan kế thừa: {chain:chain})]"
        "[; hãy chọn «{active}», nơi văn bản của cơ quan đó đang được chuyển tới"
        "|; chuỗi cơ quan kế thừa không dẫn tới cơ quan nào đang hoạt động]."
    ),
    "registry.agency.unserved": (
        "Không có hệ thống kết nối nào phục vụ cơ quan[ «{agency_code}»] hay các cơ quan cấp trên của nó"
        "[; hệ thống «{system}» được gắn với cơ quan này đang bị vô hiệu hóa hoặc không còn trong danh bạ]."
    ),
    "registry.agency.unserved:unbound": (
        "Chưa có hệ thống kết nối nào phục vụ cơ quan[ «{agency_code}»] hay các cơ quan cấp trên của nó."
    ),
    "registry.agency.unserved:system_missing": (
        "Cơ quan[ «{agency_code}»] được gắn với hệ thống[ «{system}»] nhưng hệ thống đó không còn trong danh bạ."
    ),
    "registry.agency.unserved:disabled": (
        "Hệ thống[ «{system}»] phục vụ cơ quan[ «{agency_code}»] đang bị vô hiệu hóa."
    ),
    "registry.agency.external": (
        "Cơ quan[ «{agency_code}»] là cơ quan ngoài tỉnh, có trong danh bạ nhờ trục cấp trên: trên trục này "
        "chỉ được tra cứu, không sửa được; thông tin của cơ quan do trục cấp trên cập nhật."
    ),
    "registry.system.unknown": "Không có hệ thống kết nối nào mang mã[ «{system}»| này].",
    "registry.system.exists": "Đã có hệ thống mang mã[ «{system}»| này].",
    "registry.system.invalid": (
        "Mã hoặc thiết lập của hệ thống[ «{system}»] không hợp lệ: mã gồm 1–64 chữ cái, chữ số, «.», «_» hoặc «-»; "
        "hệ thống phải có tên và nhận văn bản qua HTTP, AMQP hoặc cả hai; địa chỉ được phép gửi phải là địa chỉ IP "
        "hoặc dải mạng dạng CIDR (ví dụ 10.1.2.0/24)."
    ),
    "registry.system.disabled": "Hệ thống[ «{system}»] đang bị vô hiệu hóa; quản trị viên cần kích hoạt lại trước.",
    "registry.binding.exists": (
        "Phạm vi cơ quan[ «{agency_code}»] đã do[ hệ thống «{system}»| một hệ thống khác] phục vụ; "
        "hãy bỏ phạm vi đó ở hệ thống kia trước."
    ),
    "registry.binding.unknown": "Hệ thống[ «{system}»] không phục vụ phạm vi cơ quan[ «{agency_code}»| này].",
    "registry.sender.not_served": "Hệ thống[ «{system}»] không phục vụ cơ quan gửi[ «{sender}»].",
    "registry.certificate.invalid": "Không đọc được chứng thư số (cần tệp PEM chứa chứng thư X.509).",
    "registry.certificate.exists": "Chứng thư số[ có dấu vân tay {fingerprint:short}| này] đã được đăng ký.",
    "registry.certificate.unknown": (
        "Không có chứng thư số đang hiệu lực nào có dấu vân tay[ {fingerprint:short}| này]."
    ),
    "registry.certificate.not_bound": (
        "Chứng thư số dùng để ký[ ({fingerprint:short})] chưa được gắn cho hệ thống gửi[ «{system}»]."
    ),
    "registry.certificate.revoked": "Chứng thư số dùng để ký[ ({fingerprint:short})] đã bị thu hồi.",
    "registry.certificate.agency_mismatch": (
        "Chứng thư số[ ({fingerprint:short})] ghi cơ quan[ «{certificate_agency}»], không phải cơ quan gửi"
        "[ «{sender}»] hay một cơ quan cấp trên của cơ quan gửi."
    ),
    "registry.token.unknown": "Không có token[ số {token_id}] đang hiệu lực[ của hệ thống «{system}»].",
    "registry.import.bad_rows": (
        "Tệp có[ {bad_rows} dòng lỗi| {bad:count} dòng lỗi| dòng lỗi]; chưa nhập gì. "
        "Hãy sửa các dòng lỗi, hoặc chọn chỉ nhập các dòng hợp lệ."
    ),
    "registry.import.format": (
        "Không đọc được tệp nhập: cần tệp CSV có dòng tiêu đề với cột mã (code) và cột tên (name)"
        "[; thiếu cột {missing:quoted}][; lỗi ở dòng {line}]."
    ),
    "registry.import.format:syntax": (
        "Tệp không phải CSV hợp lệ[ (lỗi ở dòng {line})]; có thể một dấu ngoặc kép chưa được đóng."
    ),
    "registry.import.format:no_header": "Tệp không có dòng tiêu đề (code, name, …).",
    "registry.import.format:column_twice": "Dòng tiêu đề có hai cột[ «{column}»| trùng tên].",
    "registry.import.format:column_missing": (
        "Dòng tiêu đề thiếu cột[ {missing:quoted}| mã (code) hoặc tên (name)][ (tệp có các cột: {header:quoted})]."
    ),
    "registry.import.encoding": (
        "Không đọc được bảng mã của tệp[ (dòng {line})]: nội dung không phải UTF-8, UTF-16 có BOM hay "
        "Windows-1258 (tiếng Việt). Hãy lưu lại tệp từ Excel dưới dạng «CSV UTF-8» hoặc «Unicode text»."
    ),
    "registry.import.encoding:utf16_without_bom": (
        "Không đọc được bảng mã của tệp: tệp có byte 0 nhưng không có dấu BOM, có lẽ là UTF-16 thiếu BOM. "
        "Hãy lưu lại tệp từ Excel dưới dạng «CSV UTF-8» hoặc «Unicode text»."
    ),
    "registry.import.encoding:invalid": (
        "Không đọc được bảng mã của tệp[ (dòng {line})]: tệp bắt đầu bằng dấu BOM của"
        "[ {encoding}| một bảng mã Unicode] nhưng nội dung không đúng bảng mã đó. "
        "Hãy lưu lại tệp từ Excel dưới dạng «CSV UTF-8» hoặc «Unicode text»."
    ),
    "registry.import.outside_scope": (
        "Tệp thay đổi[ {outside:count}| một số] cơ quan nằm ngoài phạm vi[ «{scope}»] mà phần lớn tệp thuộc về"
        "[ ({outside:few})]; chưa nhập gì. Hãy xem lại các thay đổi đó trong lần chạy thử rồi xác nhận rõ ràng."
    ),
    # The exchange
    "intake.recipient.unknown": (
        "Cơ quan nhận[ «{recipient}»] không có trong danh bạ hoặc mã không đúng định dạng"
        "[ (chuỗi cơ quan kế thừa: {chain:chain})]."
    ),
    "intake.recipient.unknown:agency_code.malformed": (
        "Mã cơ quan nhận[ «{recipient}»] không đúng định dạng mã định danh[ {form:form}]."
    ),
    "intake.recipient.unknown:registry.agency.unknown": (
        "Cơ quan nhận[ «{recipient}»] không có trong danh bạ[ (chuỗi cơ quan kế thừa: {chain:chain})]."
    ),
    "intake.recipient.unserved": (
        "Chưa có hệ thống kết nối nào phục vụ cơ quan nhận[ «{recipient}»][ (chuỗi cơ quan kế thừa: {chain:chain})]."
    ),
    "intake.recipient.unserved:system_missing": (
        "Hệ thống[ «{system}»] phục vụ cơ quan nhận[ «{recipient}»] không còn trong danh bạ."
    ),
    "intake.recipient.unserved:disabled": (
        "Hệ thống[ «{system}»] phục vụ cơ quan nhận[ «{recipient}»] đang bị vô hiệu hóa."
    ),
    "intake.recipient.retired": (
        "Cơ quan nhận[ «{recipient}»] đã giải thể và không dẫn tới cơ quan kế thừa nào đang hoạt động"
        "[ (chuỗi cơ quan kế thừa: {chain:chain})]."
    ),
    "intake.recipient.retired:registry.agency.successor_cycle": (
        "Cơ quan nhận[ «{recipient}»] đã giải thể và chuỗi cơ quan kế thừa của nó tạo thành vòng lặp[: {chain:chain}]."
    ),
    "intake.duplicate": (
        "Mã văn bản[ «{document_id}»] đã được gửi trước đó với nội dung khác; "
        "hãy gửi văn bản cập nhật (2) hoặc thay thế (3)."
    ),
    "package.unknown": "Không có gói tin[ «{package_id}»| này] gửi tới hệ thống của bạn.",
    "document.unknown": "Không có văn bản[ «{document_id}»| này] trong hệ thống của bạn.",
    "receipt.unknown": "Không có biên nhận này trong hệ thống của bạn.",
    "delivery.not_failed": (
        "Chỉ văn bản chuyển thất bại mới được gửi lại; chưa gửi lại văn bản nào[ cho hệ thống «{system}»]"
        "[ (tình trạng hiện tại: {states:delivery})]."
    ),
    "broker.unavailable": "Máy chủ hàng đợi RabbitMQ hiện không sẵn sàng; hãy thử lại sau ít phút.",
    # Operations
    "intake.overloaded": "Trục đang xử lý nhiều gói tin cùng lúc; hãy thử lại sau[ {retry_after} giây| ít phút].",
    "rate.limited": (
        "Hệ thống[ «{system}»] gửi quá nhiều yêu cầu trong một phút; hãy thử lại sau[ {retry_after} giây| ít phút]."
    ),
    "service.unavailable": (
        "Trục tạm thời chưa xử lý được yêu cầu (cơ sở dữ liệu chưa sẵn sàng hoặc đang quá tải); "
        "hãy thử lại sau[ {retry_after} giây| ít phút]."
    ),
    "package.archived": (
        "Gói tin đã được chuyển vào kho lưu trữ theo thời hạn lưu giữ; chỉ còn biên nhận và mã băm, "
        "không còn nội dung để gửi hay tải về[ ({package_ids:count} gói tin)]."
    ),
    # Status lifecycle
    "status.backwards": (
        "Trạng thái[ {code:status}] lùi về trước bước bên nhận[ «{agency_code}»] đã đạt[: {reached:status}]"
        "[; có thể gửi: {allowed:status}]."
    ),
    "status.repeated": (
        "Trạng thái[ {code:status}] đã được gửi cho bên nhận[ «{agency_code}»| này]; "
        "các trạng thái 01, 03 và 06 không được gửi lặp lại."
    ),
    "status.not_registered": (
        "Trạng thái[ {code:status}] chỉ được gửi sau khi văn bản đã được tiếp nhận (03)"
        "[; bên nhận đang ở {reached:status}|; bên nhận chưa gửi trạng thái nào]."
    ),
    "status.after_rejection": (
        "Bên nhận[ «{agency_code}»] đã từ chối tiếp nhận văn bản (02); sau đó không được gửi thêm trạng thái nào."
    ),
    "status.rejection_too_late": (
        "Không thể từ chối tiếp nhận (02) sau khi đã tiếp nhận văn bản (03)[; bên nhận đang ở {reached:status}]."
    ),
    "status.sender_only": (
        "Chỉ cơ quan gửi văn bản mới được gửi đề nghị lấy lại (13); bên nhận không được gửi trạng thái này."
    ),
    "status.recipient_only": (
        "Cơ quan gửi văn bản chỉ được gửi đề nghị lấy lại (13)[; trạng thái {code:status} do bên nhận gửi]."
    ),
    "status.no_pending_request": (
        "Trạng thái đồng ý (15) hoặc từ chối (16) chỉ dùng để trả lời đề nghị lấy lại, thu hồi, cập nhật hoặc "
        "thay thế, nhưng hiện không có đề nghị nào đang chờ trả lời[ ở cơ quan «{agency_code}»]."
    ),
    "status.request_pending": (
        "Chưa thể gửi đề nghị lấy lại (13) khi một đề nghị trước đó vẫn đang chờ bên nhận trả lời "
        "đồng ý (15) hoặc từ chối (16)."
    ),
    # Documents and business flows
    "status.document.unknown": (
        "Không có văn bản[ «{document_id}»| này] của cơ quan gửi đã nêu gửi tới cơ quan[ «{agency_code}»| trả lời]."
    ),
    "status.document.revoked": (
        "Văn bản[ «{document_id}»] đã bị thu hồi; giờ chỉ được trả lời bằng trạng thái đồng ý (15) hoặc từ chối (16)."
    ),
    "business.target.unknown": (
        "Cơ quan gửi không có văn bản nào mang mã[ «{document_id}»| được nêu] để thu hồi, cập nhật hoặc thay thế."
    ),
    "business.target.revoked": "Văn bản[ «{document_id}»] đã bị thu hồi; không thể thu hồi, cập nhật hay thay thế nữa.",
    "business.target.superseded": "Văn bản[ «{document_id}»] đã được thay thế; hãy thao tác trên văn bản thay thế nó.",
    "business.replacement.same_id": (
        "Văn bản thay thế (3) phải có mã văn bản riêng; mã[ «{document_id}»| này] đã thuộc về một văn bản khác."
    ),
    "business.recipient.not_original": (
        "Văn bản thu hồi hoặc cập nhật chỉ được gửi tới các nơi đã nhận văn bản gốc"
        "[; văn bản gốc chưa từng gửi tới {recipients}]."
    ),
    # Authentication and authorization
    "auth.token.missing": "Yêu cầu không kèm token (thiếu tiêu đề Authorization: Bearer).",
    "auth.token.invalid": "Token không tồn tại hoặc đã bị thu hồi.",
    "auth.admin.required": "Thao tác này cần token quản trị.",
    "http.not_found": "Không tìm thấy trang hoặc tài nguyên được yêu cầu.",
    "http.method_not_allowed": "Trang hoặc tài nguyên này không nhận phương thức yêu cầu đã dùng.",
    "http.bad_request": "Dữ liệu gửi lên không hợp lệ[ (trường «{field}»)][ (tham số «{parameter}»)].",
    "internal": (
        "Trục gặp lỗi nội bộ; lỗi đã được ghi vào nhật ký kèm mã yêu cầu. Hãy thử lại, hoặc báo cho quản trị viên."
    ),
    # Security
    "signature.certificate.revoked": (
        "Chứng thư số của người ký[ ({subject})] có trong danh sách chứng thư bị thu hồi (CRL) của tổ chức cấp"
        "[ «{issuer}»][; số sê-ri {serial}][; thu hồi lúc {revoked_at:time}]."
    ),
    "intake.timestamp.future": (
        "Thời điểm ghi trên gói tin[ ({timestamp:time})] muộn hơn giờ của trục quá mức sai lệch cho phép"
        "[; trục chỉ nhận thời điểm đến {latest:time}]; hãy kiểm tra đồng hồ của hệ thống gửi."
    ),
    "intake.timestamp.stale": (
        "Gói tin quá cũ: thời điểm ghi trên gói tin[ ({timestamp:time})] đã vượt tuổi tối đa cho phép"
        "[; trục chỉ nhận thời điểm từ {earliest:time} trở đi]; hãy gửi gói tin mới."
    ),
    "auth.client_certificate.required": (
        "Hệ thống[ «{system}»] phải kết nối qua HTTPS và xuất trình một chứng thư số đã đăng ký làm chứng thư "
        "máy khách TLS."
    ),
    "auth.address.refused": (
        "Hệ thống[ «{system}»] không được phép gửi yêu cầu từ địa chỉ[ {address}| này]; "
        "địa chỉ đó không có trong danh sách địa chỉ được phép gửi."
    ),
    "auth.client_certificate.mismatch": (
        "Chứng thư số máy khách TLS[ ({fingerprint:short})] không phải chứng thư đã đăng ký và còn hiệu lực "
        "của hệ thống[ «{system}»]."
    ),
    "keys.foreign_certificate": (
        "Chứng thư số không do CA dùng cho phát triển cấp, nên danh sách thu hồi (CRL) của CA đó không thu hồi được nó."
    ),
    # RabbitMQ
    "broker.management.unavailable": (
        "Không kết nối được API quản trị RabbitMQ (không truy cập được, từ chối thông tin đăng nhập của trục, "
        "hoặc gặp lỗi)[; mã phản hồi HTTP {status}]."
    ),
    "broker.management.refused": (
        "API quản trị RabbitMQ từ chối một yêu cầu vì không hợp lệ[ ({method} /api/{path})]"
        "[; mã phản hồi HTTP {status}]."
    ),
    "broker.vhost.unknown": "RabbitMQ không có máy chủ ảo (virtual host)[ «{vhost}»| đã cấu hình].",
    "broker.reference.unreadable": (
        "Không lấy được gói tin gửi qua AMQP dưới dạng tham chiếu, hoặc nội dung tải về không khớp "
        "kích thước và mã băm đã báo."
    ),
    # Web pages
    "web.login.failed": "Tên đăng nhập hoặc mật khẩu không đúng.",
    "web.login.failed:current": "Mật khẩu hiện tại không đúng.",
    "web.login.locked": "Đăng nhập sai quá nhiều lần: tài khoản tạm khóa[ đến {locked_until:time}| trong ít phút].",
    "web.login.disabled": "Tài khoản này đã bị vô hiệu hóa; hãy liên hệ quản trị viên.",
    "web.session.required": "Phiên làm việc đã hết hoặc bạn chưa đăng nhập; hãy đăng nhập lại.",
    "web.forbidden": "Tài khoản của bạn không được dùng trang này.",
    "web.csrf": "Biểu mẫu đã cũ hoặc không hợp lệ; hãy tải lại trang và thử lại.",
    "web.password.weak": (
        f"Mật khẩu mới không đạt yêu cầu: cần từ {MIN_LENGTH} đến {MAX_LENGTH} ký tự, khác tên đăng nhập, "
        "và hai lần nhập phải giống nhau."
    ),
    "web.password.weak:again": "Hai lần nhập mật khẩu không giống nhau.",
    "web.user.unknown": "Không có người dùng[ «{username}»| này].",
    "web.user.exists": "Đã có người dùng[ «{username}»| với tên đăng nhập này].",
    "web.user.invalid": (
        "Thông tin người dùng không hợp lệ: tên đăng nhập gồm 2–64 chữ thường không dấu, chữ số, «.», «_» hoặc «-»; "
        "văn thư phải gắn với đúng một hệ thống, quản trị viên thì không."
    ),
    "web.import.stale": "Danh bạ đã thay đổi từ lúc chạy thử: hãy xem lại các thay đổi và xác nhận lại.",
    # Command line and configuration
    "cli.file_not_found": "Không tìm thấy tệp được chỉ định.",
    "config.invalid": (
        "Một thiết lập cấu hình của trục không hợp lệ[ (tệp {path})]; hãy báo quản trị viên kiểm tra cấu hình."
    ),
    "keys.missing": "Không tìm thấy tệp khóa hoặc chứng thư số cần dùng.",
    # National SDK compatibility
    "vdxp.operation.unknown": "Giao diện SDK của trục quốc gia (/vdxp/) không có thao tác[ «{operation}»| này].",
    "vdxp.auth.missing": (
        "Yêu cầu thiếu tiêu đề XroadVnpt-* bắt buộc (systemid, timestamp, sign-header…) hoặc tiêu đề đó chưa được ký"
        "[: «{header}»|: «{parameter}»]."
    ),
    "vdxp.signature.malformed": (
        "Tiêu đề XroadVnpt-sign-header không phải đối tượng JSON gồm đúng các tên liệt kê trong "
        "XroadVnpt-sign-header-key[ (tiêu đề «{header}»)| (tham số «{parameter}»)]."
    ),
    "vdxp.signature.invalid": (
        "Mã HMAC (XroadVnpt-hash-header) không khớp với các tiêu đề đã ký và khóa bí mật của hệ thống."
    ),
    "vdxp.signature.altered": "Tiêu đề[ «{header}»] khác với giá trị đã ký, hoặc một tiêu đề đã ký bị thiếu.",
    "vdxp.timestamp.invalid": "Không đọc được thời điểm đã ký (timestamp)[ «{timestamp}»].",
    "vdxp.signature.stale": (
        "Bộ tiêu đề đã ký này được dùng lần đầu[ cách đây {first_seen_seconds_ago:hours} giờ| từ quá lâu] "
        "nên không còn dùng được để yêu cầu thay đổi; hãy ký lại (tạo phiên SDK mới) rồi gửi lại."
    ),
    "vdxp.transport.insecure": (
        "Yêu cầu SDK được gửi qua HTTP không mã hóa từ máy khác[ ({address})]; hãy dùng địa chỉ HTTPS của trục."
    ),
    "vdxp.param.missing": "Thiếu tham số bắt buộc[ «{parameter}»] của thao tác.",
    "vdxp.param.invalid": "Giá trị[ «{value}»] của tham số[ «{parameter}»] không được thao tác này chấp nhận.",
    "vdxp.param.unsigned": (
        "Tham số[ «{parameter}»] được gửi nhưng không nằm trong các tiêu đề đã ký; hãy ký cả tham số này."
    ),
    "vdxp.param.ambiguous": (
        "Hai cách viết docId và docid mang giá trị khác nhau[ ({values})] và trục chưa được cấu hình ưu tiên "
        "cách viết nào."
    ),
    "vdxp.hash_file.mismatch": "Không có tệp gửi lên nào khớp với XroadVnpt-hash-file (mã băm SHA-256 của tệp).",
    "vdxp.update.conflict": (
        "Lệnh updateStatus mâu thuẫn với tình trạng chuyển của gói tin[ «{package_id}»][ ({state:delivery})]: "
        "không thể báo hoàn tất sau khi đã báo lỗi, hay báo lỗi sau khi đã hoàn tất."
    ),
    "vdxp.update.unfetched": (
        "Gói tin[ «{package_id}»] chưa từng được hệ thống tải về; hãy tải về (getEdoc) trước khi báo hoàn tất."
    ),
    "vdxp.agency.not_served": (
        "Cơ quan[ «{agency_code}»] nằm ngoài phạm vi hệ thống phục vụ, hoặc là cơ quan gốc của một phạm vi phục vụ."
    ),
    "vdxp.agency.changes_disabled": (
        "Trục này không cho hệ thống giải thể cơ quan (deleteAgency); "
        "việc giải thể do quản trị viên của trục thực hiện."
    ),
    "vdxp.agency.register_refused": (
        "Trục không nhận cơ quan mới qua registerAgency vì dữ liệu không được SDK ký; "
        "cơ quan mới do quản trị viên thêm."
    ),
    "vdxp.key.missing": (
        "Trục chưa có khóa niêm phong khóa bí mật SDK (AXIS_VDXP_SECRET_KEY_FILE); "
        "hãy cấp khóa bí mật lần đầu bằng lệnh axis systems secret."
    ),
    "upstream.unknown": "Trục này chưa được kết nối lên trục cấp trên.",
    "upstream.endpoint.invalid": (
        "Địa chỉ của trục cấp trên phải là một URL http(s) đầy đủ, ví dụ https://truc.example.gov.vn/vdxp."
    ),
    "upstream.serves.invalid": (
        "Hãy nêu ít nhất một mã định danh hợp lệ của phạm vi cơ quan do trục này tự phục vụ (ví dụ mã của tỉnh)."
    ),
    "upstream.secret.invalid": "Khóa bí mật do trục cấp trên cấp không được để trống.",
    "upstream.unreachable": (
        "Không liên lạc được với trục cấp trên (mạng, TLS hoặc quá thời gian chờ); hãy thử lại sau."
    ),
    "upstream.refused": "Trục cấp trên từ chối yêu cầu[: {upstream_code} {upstream_description}|].",
}


#: code -> the detail whose value picks a more precise template, ``MESSAGES["code:value"]``, when
#: there is one (the code's own template covers every other value and the detail's absence).
VARIANTS: Mapping[str, str] = {
    "registry.agency.successor_invalid": "reason",
    "registry.agency.unserved": "reason",
    "registry.import.format": "problem",
    "registry.import.encoding": "problem",
    "intake.recipient.unknown": "registry_code",
    "intake.recipient.unserved": "reason",
    "intake.recipient.retired": "registry_code",
    "web.login.failed": "field",
    "web.password.weak": "field",
}


def message(error: AxisError) -> str:
    """The refusal in Vietnamese, with what its details name (an agency code, a line, a limit…).

    Never English and never raises: a detail that is missing or unusable drops its segment, and a
    code the catalogue does not know yet gets a general sentence with the code.
    """
    variant = error.details.get(VARIANTS.get(error.code, ""))
    template = MESSAGES.get(f"{error.code}:{variant}") if isinstance(variant, str) else None
    template = template or MESSAGES.get(error.code)
    if template is None:
        return f"Trục không thực hiện được yêu cầu (mã lỗi {error.code})."
    return fill(template, error.details)


_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class _Absent(Exception):
    """A field of an alternative has no value to show: try the next alternative."""


def fill(template: str, details: Mapping[str, Any]) -> str:
    """``template`` with each ``[…|…]`` segment replaced by its first alternative that ``details``
    can fill, or by nothing."""
    return _SEGMENT.sub(lambda match: _first(match.group(1).split("|"), details), template)


def _first(alternatives: Sequence[str], details: Mapping[str, Any]) -> str:
    for alternative in alternatives:
        try:
            return _FORMATTER.vformat(alternative, (), details)
        except (_Absent, ValueError, TypeError, KeyError, IndexError, AttributeError):
            continue  # a detail of an unexpected shape is shown as if absent, never as a crash
    return ""


class _Formatter(string.Formatter):
    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        value = kwargs.get(key) if isinstance(key, str) else None
        if value is None:
            raise _Absent(key)
        return value

    def format_field(self, value: Any, format_spec: str) -> str:
        text = _SPECS[format_spec](value) if format_spec else _text(value)
        if not text:
            raise _Absent(format_spec)
        return text


_FORMATTER = _Formatter()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, dt.datetime):
        return vietnamese.clock(value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _count(value: Any) -> str:
    return str(len(value)) if isinstance(value, list | tuple) else str(int(value))


def _number(value: Any) -> str:
    return f"{int(value):,}".replace(",", ".")  # Vietnamese groups thousands with dots


def _quoted(value: Any) -> str:
    items = value if isinstance(value, list | tuple) else [value]
    return ", ".join(f"«{item}»" for item in items if str(item).strip())


def _few(value: Any, shown: int = 10) -> str:
    items = [str(item) for item in value]
    return ", ".join(items[:shown]) + (" …" if len(items) > shown else "")


def _hours(seconds: Any) -> str:
    return f"{float(seconds) / 3600:.1f}".replace(".", ",")


def _status(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_status(v) for v in value)
    name = vietnamese.STATUS.get(str(value))
    return f"{value} ({name})" if name else str(value)


def _delivery(value: Any) -> str:
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_delivery(v)}" for k, v in value.items())
    return vietnamese.DELIVERY.get(str(value), "chưa từng gửi tới hệ thống này" if value == "none" else str(value))


_FORMS = {
    "QCVN 102": "theo QCVN 102 (ví dụ 000.00.11.H53)",
    "QD20": "theo Quyết định 20/2020/QĐ-TTg",
    "QCVN 102 or QD20": "theo QCVN 102 hay Quyết định 20/2020/QĐ-TTg",
}

#: Format specs: how a detail is shown (an empty result counts as no detail).
_SPECS: Mapping[str, Callable[[Any], str]] = {
    "bytes": lambda value: vietnamese.size(int(value)),
    "n": _number,
    "count": _count,
    "quoted": _quoted,
    "few": _few,
    "hours": _hours,
    "time": lambda value: vietnamese.clock(value),
    "chain": lambda value: " → ".join(map(str, value)) if len(value) > 1 else "",
    "status": _status,
    "delivery": _delivery,
    "short": lambda value: f"{str(value)[:16]}…" if len(str(value)) > 16 else str(value),
    # The reader's paths of namespaced elements are all wildcards (/*/*[2]): no help to anyone.
    "xpath": lambda value: "" if "*" in str(value) else str(value),
    "form": lambda value: _FORMS.get(str(value), ""),
}


_VIETNAMESE = re.compile("[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE)


def refusal(error: AxisError) -> str:
    """What a page says of a refusal: the catalogue's Vietnamese, unless the page that refused
    already wrote a Vietnamese sentence more precise than any template (a form's own check)."""
    if _VIETNAMESE.search(error.message):
        return error.message
    return message(error)
