# The platform image: the `evp` command and the services.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared shared
COPY codegen codegen
COPY services services
COPY schemas schemas
RUN pip install --no-cache-dir .
ENV PYTHONUNBUFFERED=1
CMD ["evp", "--help"]
