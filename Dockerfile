# One image with both demo services; docker-compose.yml picks the binary with `command`.
#
#   docker build -t circuit-breaker-demo .
#   docker run --rm -p 8081:8081 circuit-breaker-demo service-b
#
# Works with the classic builder (docker-compose 1.29) and with BuildKit: no `RUN --mount`.

# --- planner: the workspace reduced to what decides the dependency build -------------------
# Manifests and Cargo.lock as they are, every Rust file replaced by a stub (`fn main() {}` for
# binaries, tests, benches, examples and build scripts; empty otherwise). Keeping every file
# keeps every target cargo infers, so the manifests load exactly as in the real build. This
# stage reruns on every source change, but its output, and so the builder's dependency layer,
# changes only when a manifest, the lock file or the set of files does.
FROM rust:1-bookworm AS planner
WORKDIR /src
COPY . .
RUN set -eu; \
    mkdir /skeleton; \
    find . -path ./target -prune -o \
        \( -name Cargo.toml -o -name Cargo.lock -o -path './.cargo/*' \) -type f -print \
        | xargs -r cp --parents -t /skeleton; \
    find . -path ./target -prune -o -name '*.rs' -type f -print | while read -r file; do \
        mkdir -p "/skeleton/$(dirname "$file")"; \
        case "$file" in \
            */main.rs|*/build.rs|*/src/bin/*|*/tests/*|*/benches/*|*/examples/*) \
                echo 'fn main() {}' > "/skeleton/$file" ;; \
            *) : > "/skeleton/$file" ;; \
        esac; \
    done

# --- builder ----------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY --from=planner /skeleton ./
# Compiles only the dependencies (and the stubs): cached until a manifest or Cargo.lock changes.
RUN cargo build --release --locked -p service-a -p service-b
COPY . .
# COPY keeps the build context's modification times, which are older than the stub build, so
# cargo would take the stubs' outputs as fresh: touch the real sources.
RUN find . -path ./target -prune -o -name '*.rs' -type f -exec touch {} + \
    && cargo build --release --locked -p service-a -p service-b \
    && install -m 0755 target/release/service-a target/release/service-b /usr/local/bin/

# --- runtime ----------------------------------------------------------------------------
FROM debian:bookworm-slim
# curl is for the healthchecks in docker-compose.yml.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin app
COPY --from=builder /usr/local/bin/service-a /usr/local/bin/service-b /usr/local/bin/
USER app
# Inside a container the services must listen on every interface to be reachable.
ENV BIND_ADDR=0.0.0.0
EXPOSE 8080 8081
CMD ["service-a"]
