# One image for the API and the workers (docker-compose.yml runs it twice with different commands).
# The web interface is built with the dev toolchain (Vite) in its own stage; the runtime stage
# carries only production dependencies and the built assets.
FROM node:20-bookworm-slim AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:web

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
COPY --from=web /app/web/dist ./web/dist
# Native Tesseract for OCR_ENGINE=auto (0.55-0.9x tesseract.js's CPU a page, docs/performance.md §0). It reads the npm
# packages' models from a folder it unpacks them to, never Debian's own traineddata.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr \
 && rm -rf /var/lib/apt/lists/*
ENV OCR_ENGINE=auto
USER node
ENTRYPOINT ["node", "bin/arkiva.mjs"]
CMD ["serve"]
