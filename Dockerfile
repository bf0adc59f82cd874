# One image for the NEOT services; docker-compose.yml picks the process per service.
FROM python:3.13-slim
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY neot ./neot
COPY protocol ./protocol
COPY models ./models
COPY migrations ./migrations
COPY chain ./chain
COPY scoring_service ./scoring_service
COPY insurer_api ./insurer_api
COPY vehicle_agent ./vehicle_agent
COPY demo ./demo
RUN pip install --no-cache-dir '.[server,agent]'
# Owned by the service user, so a named volume mounted here starts writable for it.
RUN mkdir -p /data && chown nobody:nogroup /data
ENV NEOT_DATA_DIR=/data
USER nobody
EXPOSE 8000
