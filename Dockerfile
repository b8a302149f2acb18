# One image for every production process; the command chooses which (the gateway by default, each Kubernetes
# Deployment in deploy/kubernetes/ names its own). It runs compiled JavaScript with production dependencies only:
# no TypeScript loader, no dev dependencies, no sandbox, scripts or tests.
#
#   docker build -t nhs-booking-gateway:0.1.0 .
#   docker run --rm nhs-booking-gateway:0.1.0                                        # the gateway
#   docker run --rm nhs-booking-gateway:0.1.0 node dist/subgraphs/pas-rest/index.js  # a subgraph
#   (with the V8 flags its adapter declares, `v8Flags`, before the path: booking-standard's --max-semi-space-size=32)
#
# Production settings (secrets, SUPPLIER_REGISTRY, REDIS_URL) come from the environment: README.md, "Production
# build and deployment".

ARG NODE_IMAGE=node:20-bookworm-slim

# Build: every dependency, the IDE bundle (ide/dist, built by npm ci's postinstall) and dist/ (npm run build).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY ide/ ide/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && mkdir -p /out \
 && cp -r --parents dist schema config ide/dist ide/examples /out/ \
 && find gateway subgraphs \( -name schema.graphql -o -name directory.graphql \) -exec cp --parents {} /out/ \;

# Production dependencies only (no install scripts: none of them needs one, and the IDE is already built).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Runtime: dist/, the files read at run time (schema/, config/, each subgraph's schema.graphql and each adapter's
# directory.graphql, ide/dist and the IDE's example operations), production node_modules, package.json ("type":
# "module"). Non-root, numeric user so Kubernetes can verify runAsNonRoot; nothing is written to the image's
# filesystem at run time.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    GATEWAY_HOST=0.0.0.0 \
    SUBGRAPH_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /out/ ./
COPY --chown=root:root package.json ./
USER 1000:1000
# gateway: 4000 (GraphQL, /health/live), 4090 (internal: /metrics, /health/ready); subgraphs: 4001-4004.
EXPOSE 4000 4090 4001 4002 4003 4004
CMD ["node", "dist/gateway/index.js"]
