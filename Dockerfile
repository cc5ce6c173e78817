# One image for the API and the workers (docker-compose.yml runs it twice with different commands).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
ENTRYPOINT ["node", "bin/arkiva.mjs"]
CMD ["serve"]
