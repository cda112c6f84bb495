# syntax=docker/dockerfile:1.7
# emostream service image (CPU): `emostream serve ingest|detector|classifier|aggregator`, the
# embedded `emostream analyze`, and the retrain job (docker/retrain.sh). TensorFlow.js runs on
# tfjs-node (libtensorflow). Build:  docker build -t emostream:0.1.0 .

FROM node:22-bookworm-slim AS build
# Build tools for the tfjs-node addon (compiled from source when its prebuilt download is not
# reachable; scripts/install-tfjs-node.sh) and python3 for unpacking TensorFlow's wheel.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates python3 python3-pip g++ make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# The runtime image holds what runs: no tests, benchmarks, build scripts, docs or manifests.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && bash scripts/install-tfjs-node.sh cpu \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf .cache /root/.npm \
 && rm -rf test bench scripts docs schemas examples deploy jobs/retrain/torch .github \
 && find . -path ./node_modules -prune -o -name '*.test.ts' -type f -exec rm -f {} +

FROM node:22-bookworm-slim
# ffmpeg decodes the cameras; opencv-data has the paper's Haar cascade (--detector haar).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg opencv-data tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production \
    TF_CPP_MIN_LOG_LEVEL=3 \
    HOME=/tmp
# A numeric non-root user, so Kubernetes' runAsNonRoot can verify it; the root filesystem can be
# read-only: everything writes under /tmp (an emptyDir in deploy/k8s) or a mounted volume.
USER 10001:10001
EXPOSE 9464
ENTRYPOINT ["tini", "--", "node", "/app/bin/emostream.mjs"]
CMD ["--help"]
