# The fieldvisit server image: the API (`fieldvisit serve`) and the worker (`fieldvisit worker`).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev
ENV PATH="/app/.venv/bin:$PATH" FIELDVISIT_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000
CMD ["fieldvisit", "serve", "--host", "0.0.0.0", "--port", "8000"]
