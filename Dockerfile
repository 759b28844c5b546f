# Multi-stage build: compile a release binary (migrations, templates and static files are
# embedded), then run it as a non-root user on a slim image.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
ENV SQLX_OFFLINE=true
RUN cargo build --release --locked && cp target/release/keel /usr/local/bin/keel

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --create-home keel
COPY --from=build /usr/local/bin/keel /usr/local/bin/keel
USER keel
WORKDIR /app
ENV KEEL_BIND=0.0.0.0:3000 KEEL_LOG_FORMAT=json
EXPOSE 3000
ENTRYPOINT ["keel"]
CMD ["serve"]
