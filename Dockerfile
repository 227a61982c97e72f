# The Preflight image: the `preflight` command, for `preflight k8s` worker and coordinator pods
# (and anything else: `docker run IMAGE run plan.yaml`). docs/kubernetes.md: building and pushing.
#
#   docker build -t registry.example.com/preflight:0.1.0 .
#
# Two stages: the first installs every dependency and compiles; the final one holds only what the
# published package holds (package.json `files`, via `npm pack`) and the production dependencies.
# No compiler, no dev dependencies, no npm cache in the final image; it runs as the non-root `node`
# user (uid 1000, which the generated pods' securityContext expects).

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no install script is needed to build (onnxruntime-node's would download ~300 MB).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY scripts ./scripts
COPY models ./models
COPY examples ./examples
COPY docs ./docs
COPY README.md ./
RUN npx tsc -p tsconfig.json \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mkdir /pkg && tar -xzf /tmp/ml-preflight-*.tgz -C /pkg --strip-components=1

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /opt/preflight
COPY --from=build /pkg/ ./
COPY package-lock.json ./
RUN npm ci --omit=dev --omit=peer --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm package-lock.json \
 && chmod 0755 dist/src/cli/main.js \
 && ln -s /opt/preflight/dist/src/cli/main.js /usr/local/bin/preflight
USER node
# Pods mount a writable /tmp (the root filesystem is read-only there) and work in it.
WORKDIR /tmp
ENTRYPOINT ["preflight"]
CMD ["--help"]
