# The portal server as a container image: `docker build -t portal .`
# Web stage: the portals in the browser (web/), built with Node; the binary embeds them (gateway/build.rs).
FROM node:20-bookworm AS web
WORKDIR /src
COPY schema.graphql ./
COPY web/ web/
RUN cd web && npm ci --no-audit --no-fund && npm run build

# Build stage: the release binary (about 7 minutes on 2 cores; the cache mounts keep later builds incremental).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=web /src/web/dist /src/web/dist
ENV PORTAL_WEB_DIST=/src/web/dist
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p portal-gateway \
 && cp target/release/portal /usr/local/bin/portal

# Run stage: the binary alone, as an unprivileged user. TLS roots are compiled in (rustls with webpki roots).
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/portal --create-home portal
COPY --from=build /usr/local/bin/portal /usr/local/bin/portal
USER portal
WORKDIR /var/lib/portal
# Listen on every interface of the container; logs as JSON lines for the log collector.
ENV PORTAL_LISTEN=0.0.0.0:8080 \
    PORTAL_LOG_FORMAT=json \
    PORTAL_MAIL_DIR=/var/lib/portal/mail
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["portal", "probe", "--url", "http://127.0.0.1:8080/readyz"]
# SIGTERM (docker stop) drains requests in flight and exits 0; give it the time to.
STOPSIGNAL SIGTERM
ENTRYPOINT ["portal"]
CMD ["serve"]
