# The model server image: docker build -t service:v1 .
# Stage 1 builds wheels for sds (the sds-toolkit distribution) and the extras in EXTRAS; stage
# 2 installs them into a slim image that runs as a non-root user. EXTRAS defaults to the server
# (serve) and the gradient-boosting libraries (boost): a model whose chosen candidate is
# LightGBM or XGBoost is unpickled with them and cannot load without. For an image that only
# serves scikit-learn models: docker build --build-arg EXTRAS=serve -t service:v1 . The model folder (from sds
# train) is mounted or copied at /models/current; its SHA-256 and HMAC signature are checked
# before it is unpickled, with the key in the SDS_MODEL_KEY environment variable (the one
# the training job signed with; pass it at run time, e.g. from a Kubernetes Secret, never in
# the image).
FROM python:3.11-slim AS build
ARG EXTRAS=serve,boost
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[${EXTRAS}]"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin sds
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001
WORKDIR /home/sds
ENV PYTHONUNBUFFERED=1 \
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    MKL_NUM_THREADS=1
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["sds", "serve", "/models/current", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
