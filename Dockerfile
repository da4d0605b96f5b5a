# The CPU environment of `make setup`, the project installed, `make run` by default.
#   docker build -t iterbench .                          # CPU (torch 2.13.0 CPU build)
#   docker build -t iterbench:gpu --build-arg VARIANT=gpu .
#   docker run --rm iterbench                            # make run: results.json + reports/
#   docker run --rm --gpus all iterbench:gpu             # needs the NVIDIA container toolkit
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim-bookworm

# cpu: torch from the PyTorch CPU index (no CUDA libraries); gpu: the default torch wheel,
# which carries its CUDA runtime.
ARG VARIANT=cpu
ARG TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# make runs the project's targets; git records the commit of each session.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 bench \
    && mkdir -p /opt/venv /app \
    && chown bench:bench /opt/venv /app

USER 1000:1000
WORKDIR /app

# Dependencies first (cached while only the code changes): the Makefile and the metadata.
COPY --chown=bench:bench pyproject.toml Makefile README.md ./
COPY --chown=bench:bench schemas ./schemas
COPY --chown=bench:bench pytest_iterbench ./pytest_iterbench
RUN if [ "$VARIANT" = "gpu" ]; then index=""; else index="$TORCH_CPU_INDEX"; fi \
    && make setup PYTHON=python3 TORCH_INDEX="$index"

COPY --chown=bench:bench . .

CMD ["make", "run"]
