# syntax=docker/dockerfile:1
# The axis image: one process serving the HTTP API and the background workers (`axis serve`).
# Configuration comes from AXIS_* environment variables (docs/operations.md); keys and trust
# anchors are mounted, never baked in.
#
# Two stages: the first builds wheels, the second installs them. The axis wheel carries what the
# package reads at run time (XML Schemas, agency code lists, migrations, web templates and static
# files), so no part of the checkout is copied into the image; tests/test_packaging.py installs the
# same wheel into an empty virtualenv and runs it from outside the checkout.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The dependencies' wheels first, so that a code change does not fetch them again: an empty package
# with the real pyproject.toml stands in for the sources, and its own wheel is thrown away.
COPY pyproject.toml README.md ./
RUN mkdir axis && touch axis/__init__.py \
    && pip wheel --wheel-dir /deps . \
    && rm /deps/axis-*.whl && rm -r axis
COPY axis ./axis
RUN pip wheel --no-deps --wheel-dir /dist .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AXIS_HTTP_HOST=0.0.0.0 \
    AXIS_HTTP_PORT=8080 \
    AXIS_KEYS_DIR=/keys \
    AXIS_ARCHIVE_DIR=/archive

# The wheels are mounted from the build stage, not copied: no layer of the image keeps them.
RUN --mount=type=bind,from=build,source=/deps,target=/deps \
    pip install --no-index /deps/*.whl
# The axis itself, its dependencies resolved from its own metadata against what is installed above.
RUN --mount=type=bind,from=build,source=/deps,target=/deps \
    --mount=type=bind,from=build,source=/dist,target=/dist \
    pip install --no-index --find-links /deps /dist/axis-*.whl \
    && useradd --system --uid 10001 --home-dir /app axis \
    && mkdir -p /keys /archive && chown axis /keys /archive
WORKDIR /app
USER axis

EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
CMD ["axis", "serve"]
