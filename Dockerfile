# The axis image: one process serving the HTTP API and the background workers (`axis serve`).
# Configuration comes from AXIS_* environment variables (docs/operations.md); keys and trust
# anchors are mounted, never baked in.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    AXIS_HTTP_HOST=0.0.0.0 \
    AXIS_HTTP_PORT=8080 \
    AXIS_KEYS_DIR=/keys \
    AXIS_ARCHIVE_DIR=/archive

WORKDIR /app
# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir axis && touch axis/__init__.py && pip install . && pip uninstall -y axis && rm -r axis
COPY axis ./axis
COPY schemas ./schemas
COPY agency_codes ./agency_codes
# Editable: the package finds schemas/ and agency_codes/ next to itself, as in a checkout.
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /app axis \
    && mkdir -p /keys /archive && chown axis /keys /archive
USER axis

EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
CMD ["axis", "serve"]
