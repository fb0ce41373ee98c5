# The bot's container image: the bot bundled to JavaScript (dev/build.ts) on plain node, production dependencies only,
# run as the non-root user `node` (uid 1000) with tini as PID 1.
#
#   docker build -t chatops-bot .                                  # base: node:20-bookworm-slim
#   docker build --network host --build-arg BASE_IMAGE=chatops-node-base:local -t chatops-bot .
#
# The second form is for machines without an image registry: deploy/image/build-base.sh makes
# that base from Debian packages and the machine's own node (deploy/image/README.md).
# deploy/image/test-image.sh builds the image and runs it through the whole alert-to-card loop.
#
# Signals: tini (PID 1) forwards SIGTERM to node and reaps zombies (executors may spawn helper
# processes); node's handlers in main.ts turn readiness false, drain and exit. The local base has
# tini already; on the official node image it is installed from Debian below.

ARG BASE_IMAGE=node:20-bookworm-slim

# ─── build: all dependencies, the bundle, then drop the development ones ──────────────────────
FROM ${BASE_IMAGE} AS build
WORKDIR /src
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# build-ca.crt, when the context has one: extra CA certificates for a registry reached through a
# TLS-inspecting proxy (deploy/image/test-image.sh adds BUILD_CA_FILE). Build stage only.
COPY package.json package-lock.json build-ca.cr[t] ./
RUN if [ -f build-ca.crt ]; then export NODE_EXTRA_CA_CERTS="$PWD/build-ca.crt"; fi && \
    npm ci --no-audit --no-fund
COPY tsconfig.json main.ts ./
COPY dev/build.ts dev/
COPY domain domain
COPY db db
COPY kv kv
COPY registry registry
COPY gateways gateways
COPY ai ai
COPY executors executors
COPY handlers handlers
COPY jobs jobs
COPY bot bot
COPY http http
COPY app app
# Then only what node loads: type declarations, source maps and TypeScript sources that packages
# ship are about 80 MB of node_modules and never read at run time.
RUN npm run build && npm prune --omit=dev && npm cache clean --force && \
    find node_modules -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' \) -delete

# ─── run ──────────────────────────────────────────────────────────────────────────────────────
FROM ${BASE_IMAGE}
ARG BASE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="chatops-bot" \
      org.opencontainers.image.description="Chat-first ChatOps incident bot: alerts in, incidents and Telegram cards out, guarded remediation." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}" \
      org.opencontainers.image.documentation="README.md, section Deploy on K3s"

RUN if [ ! -x /usr/bin/tini ]; then \
      apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*; \
    fi

WORKDIR /app
# dist/ holds the bundle and its source maps, the migrations, the Lua scripts and the registry
# YAML (registry/services.yaml is REGISTRY_PATH's default, relative to this directory).
# node_modules: the libraries the bundle leaves out (dev/build.ts) load from it.
COPY --from=build --chown=0:0 /src/package.json ./
COPY --from=build --chown=0:0 /src/node_modules node_modules
COPY --from=build --chown=0:0 /src/dist ./

# PORT serves the API (http role); roles without it answer the health routes on HEALTH_PORT.
# No Redis or PostgreSQL of its own in a container: REDIS_URL and DATABASE_URL must be set.
# glibc's malloc threshold as `npm start` sets it (package.json; main.ts says why). A pod's env
# can set another.
ENV NODE_ENV=production \
    PORT=8080 \
    HEALTH_PORT=8080 \
    LOCAL_SERVICES=off \
    ENV_FILE=off \
    MALLOC_MMAP_THRESHOLD_=131072
EXPOSE 8080
USER 1000:1000

# For plain Docker hosts (Kubernetes uses the probes in deploy/k8s instead). No curl in the
# image: node asks /api/v1/health on the port the running roles listen on.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const e=process.env,p=/http/.test(e.ROLES||'http')?e.PORT:e.HEALTH_PORT;fetch('http://127.0.0.1:'+(p||8080)+'/api/v1/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
# the same V8 flag as `npm start` (package.json): the old generation collected after it grew 50 %
# instead of letting it double or more under load (README, Benchmark: intake peak RSS)
CMD ["node", "--heap-growing-percent=50", "main.js"]
