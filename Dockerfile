# One image for the API and the workers. PyPI's torch wheel carries its CUDA libraries, so the
# same image trains on GPUs (with the NVIDIA container toolkit) and falls back to the CPU.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SCHEDSEARCH_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY schedsearch ./schedsearch
COPY api ./api
RUN pip install . && useradd --create-home --uid 1000 schedsearch \
    && mkdir -p /data && chown schedsearch /data
USER schedsearch

EXPOSE 8000
ENTRYPOINT ["schedsearch"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
