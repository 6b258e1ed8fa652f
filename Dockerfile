# Production image: talks to the central gateway, so it carries no local model (no `local` extra).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY portal ./portal
COPY catalog ./catalog
COPY guardrails ./guardrails
COPY metering ./metering
COPY sandbox ./sandbox
COPY prompt_library ./prompt_library
COPY training ./training
COPY templates ./templates
COPY portfolio ./portfolio
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORTAL_SERVER_ADDRESS=0.0.0.0 \
    PORTAL_SERVER_PORT=8501 \
    PORTAL_AUTH_MODE=oidc \
    PORTAL_LOG_FILE=/app/var/portal.log
# git: templates render from the portal's mirror repositories and forks can become git repositories.
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 portal
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
RUN mkdir -p /app/var /app/.streamlit && chown -R portal:portal /app
USER portal
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"
# Mount the OIDC settings at /app/.streamlit/secrets.toml and pass PORTAL_DATABASE_URL, PORTAL_GATEWAY_URL, ...
CMD ["coe-portal", "run"]
