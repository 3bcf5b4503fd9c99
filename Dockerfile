# One image with every demo binary (service-a, service-b, and `shop`, `discovery`, `chain`,
# `lab`, each with a subcommand per service, and the fleet `dashboard`); docker-compose.yml picks
# the binary with `command`. `breakerctl`, the operators' CLI, is in it too:
# `docker compose exec dashboard breakerctl list`.
#
#   docker build -t circuit-breaker-demo .
#   docker run --rm -p 8081:8081 circuit-breaker-demo service-b
#   docker run --rm -p 3002:3002 circuit-breaker-demo shop inventory
#   docker run --rm -p 3000:3000 -e REDIS_URL=redis://host:6379 circuit-breaker-demo discovery server
#
# Works with the classic builder (docker-compose 1.29) and with BuildKit: no `RUN --mount`.

# Every stage starts from a published image (none from another stage), so anything that reads
# the FROM lines to know which images to fetch sees only real ones; the stages that need
# cargo-chef copy its binary from the first. Versions are pinned (the Rust one is the
# workspace's rust-version) so that a rebuild gets the same toolchain and base.

# --- chef: cargo-chef, built once -------------------------------------------------------
# Depends on nothing in the build context, so this layer stays cached.
FROM rust:1.95.0-bookworm AS chef
RUN cargo install cargo-chef --locked

# --- planner: the recipe, i.e. what decides the dependency build -------------------------
# cargo-chef finds every workspace member from the manifests, so a new crate needs no edit
# here. The recipe changes only when a manifest or Cargo.lock does, which keeps the builder's
# dependency layer cached across source edits.
FROM rust:1.95.0-bookworm AS planner
COPY --from=chef /usr/local/cargo/bin/cargo-chef /usr/local/cargo/bin/
WORKDIR /src
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# --- builder ----------------------------------------------------------------------------
FROM rust:1.95.0-bookworm AS builder
COPY --from=chef /usr/local/cargo/bin/cargo-chef /usr/local/cargo/bin/
WORKDIR /src
COPY --from=planner /src/recipe.json recipe.json
# Compiles only the dependencies of the service binaries: cached until the recipe changes. The same
# packages as the build below, so both resolve the same features and nothing compiles twice.
RUN cargo chef cook --release --locked --recipe-path recipe.json \
    -p service-a -p service-b -p shop -p discovery -p chain -p lab -p dashboard \
    -p breakerctl
COPY . .
RUN cargo build --release --locked -p service-a -p service-b -p shop -p discovery -p chain -p lab \
        -p dashboard -p breakerctl \
    && install -m 0755 target/release/service-a target/release/service-b target/release/shop \
        target/release/discovery target/release/chain target/release/lab \
        target/release/dashboard target/release/breakerctl /usr/local/bin/

# --- runtime ----------------------------------------------------------------------------
FROM debian:12.12-slim
# No curl: every binary checks its own health (`<binary> healthcheck`), which docker-compose.yml
# uses. CA certificates are for Redis over TLS.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin app
COPY --from=builder /usr/local/bin/service-a /usr/local/bin/service-b /usr/local/bin/shop \
    /usr/local/bin/discovery /usr/local/bin/chain /usr/local/bin/lab \
    /usr/local/bin/dashboard /usr/local/bin/breakerctl /usr/local/bin/
USER app
# Inside a container the services must listen on every interface to be reachable.
ENV BIND_ADDR=0.0.0.0
EXPOSE 8080 8081 8082 3000 3001 3002 3003 4000 4001 4002 5000 5001 5002 8000 8088
CMD ["service-a"]
