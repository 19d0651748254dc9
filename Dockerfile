# syntax=docker/dockerfile:1
# Levqor's container image: `levqor` is the entrypoint, the command picks the process
# (serve, scheduler, bot, migrate …). Build: docker build -t levqor .
# test/deploy-image.test.ts parses this file and builds the runtime stage's file layout without
# Docker (npm pack, then the runtime stage's npm ci) to prove production dependencies suffice.
ARG NODE_IMAGE=node:20-slim

# Stage 1: install everything, build lib/ (esbuild, migrations embedded) and pack the package
# exactly as it would be published: lib/, package.json, README — no sources, no tests.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV CI=true
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mkdir /out \
 && tar -xzf /tmp/levqor-*.tgz -C /out --strip-components=1 \
 && cp package-lock.json /out/

# Stage 2: the packed package and its production dependencies only, run as a non-root user.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    LEVQOR_DATA_DIR=/data/levqor \
    LEVQOR_LOG_PRETTY=false
WORKDIR /app
COPY --from=build /out/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && ln -s /app/lib/cli.js /usr/local/bin/levqor \
 && groupadd --system --gid 10001 levqor \
 && useradd --system --uid 10001 --gid levqor --home-dir /app --shell /usr/sbin/nologin levqor \
 && mkdir -p /data/levqor \
 && chown -R levqor:levqor /data
USER 10001:10001
# The embedded database (no DATABASE_URL) lives here; with Postgres nothing is written.
VOLUME ["/data"]
EXPOSE 8000 3000
# Readiness of `levqor serve` (database answers, schema migrated). Other processes set their own
# check: the bot's /healthz on LEVQOR_BOT_PORT, none for the scheduler (docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["levqor"]
CMD ["serve"]
