# Image for docker-compose.yml: the gateway, the worker and migrations share it.
# Browser libraries come from npm in a build stage; nothing third-party is committed.
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY ticketq ticketq
COPY bootstrap bootstrap
COPY gateway gateway
COPY queue_engine queue_engine
COPY purchase purchase
COPY lottery lottery
COPY scanner scanner
COPY catalog catalog
COPY accounts accounts
COPY payments payments
COPY mail mail
COPY core core
COPY lua lua
COPY loadtest loadtest
# Editable, so the gateway finds node_modules beside its package (gateway/vendor_assets.py).
RUN pip install --no-cache-dir -c constraints.txt -e .
COPY --from=assets /app/node_modules node_modules
USER nobody
EXPOSE 8000
