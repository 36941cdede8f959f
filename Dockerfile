# Image for docker-compose.yml: the gateway, the worker and migrations share it.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ticketq ticketq
COPY gateway gateway
COPY queue_engine queue_engine
COPY purchase purchase
COPY lottery lottery
COPY scanner scanner
COPY lua lua
COPY loadtest loadtest
RUN pip install --no-cache-dir .
USER nobody
EXPOSE 8000
