# One image build, two targets: `hub` (a hub node) and `worker` (a job worker).
#   docker build --target hub -t switchboard-hub .
#   docker build --target worker -t switchboard-worker .
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Workspaces: npm ci needs every workspace's package.json, so the whole tree (minus .dockerignore).
COPY . .
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
USER node

FROM runtime AS hub
ENV PORT=3000 HOST=0.0.0.0
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "apps/hub/dist/main.js"]

FROM runtime AS worker
STOPSIGNAL SIGTERM
CMD ["node", "apps/worker/dist/main.js"]
