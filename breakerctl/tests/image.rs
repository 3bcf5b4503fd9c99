//! The demo image ships `breakerctl`, so that `docker compose exec dashboard breakerctl list`
//! works (the dashboard's Redis user may list breakers).

use std::path::Path;

/// The Dockerfile's instructions, continuation lines joined.
fn instructions() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("Dockerfile")).unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        match line.trim_end().strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

#[test]
fn the_image_builds_installs_and_ships_breakerctl() {
    let all = instructions();
    let has = |prefix: &str, part: &str| {
        all.iter()
            .any(|i| i.starts_with(prefix) && format!("{i} ").contains(part))
    };
    assert!(has("RUN cargo chef cook", "-p breakerctl "), "cooked");
    assert!(has("RUN cargo build", "-p breakerctl "), "built");
    assert!(
        has("RUN cargo build", "target/release/breakerctl "),
        "installed"
    );
    assert!(
        has("COPY --from=builder", "/usr/local/bin/breakerctl "),
        "in the runtime image"
    );
}
