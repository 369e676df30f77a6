"""The national SDK's interface (EDXML.md §4), so that software already connected to the national
axis switches to this one by configuration: the request signature (``signing``), the parameters
with the SDK's quirks (``params``), the answers and their error table (``answers``), the sealed SDK
secrets (``secret``), and the few queries the exchange does not offer (``store``).

Everything but ``store`` is pure. The HTTP adapter is ``axis.http.vdxp``: it only translates onto
``Exchange.submit/body/acknowledge`` and the registry, so a package sent through the SDK goes
through the same intake, storage, delivery and statuses as one sent to ``/api/v1/packages``.
"""
