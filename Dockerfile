# syntax=docker/dockerfile:1
# Tessera: multi-stage image. Stage 1 installs production dependencies only and generates the
# Prisma client; stage 2 copies them with the sources and runs as the unprivileged `node` user.
# TypeScript runs through tsx (a production dependency), exactly like `npm start`.

FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds the verifier with tsc (a dev dependency) and is not needed
# here; argon2 ships prebuilt binaries. The one script we need, Prisma client generation, runs next.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
RUN node scripts/prisma-generate.mjs

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
RUN mkdir -p /data && chown node:node /data
COPY --chown=root:root package.json package-lock.json tsconfig.json ./
COPY --chown=root:root --from=deps /app/node_modules ./node_modules
COPY --chown=root:root prisma ./prisma
COPY --chown=root:root bin ./bin
COPY --chown=root:root src ./src
COPY --chown=root:root --from=deps /app/src/generated ./src/generated
USER node
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node handles SIGTERM itself (graceful shutdown); run with an init (compose: `init: true`) so
# cluster workers are reaped and signals are forwarded
CMD ["node", "--import", "tsx", "src/main.ts"]
