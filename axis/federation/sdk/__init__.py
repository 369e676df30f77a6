"""The national SDK's side of its interface, as the axis speaks it to an upstream axis.

A provincial axis reaches the national one the way every connected system does: through the
national SDK's interface. These modules rebuild, byte for byte, the requests the unmodified Java
SDK sends (``wire``: the signed headers, the two HTTP stacks, the never-cleared parameter map in
``java.util.HashMap`` order from ``java_map``, JSON as gson writes it from ``gson``), send them and
read one answer (``transport``). Written from the captures in ``../shared/domain/sdk-wire/`` and
held to every one of them by ``tests/vdxp/test_sdk_wire_client.py``; no SDK code is copied.
"""
