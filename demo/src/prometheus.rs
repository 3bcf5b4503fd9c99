//! The lab's Prometheus: Debian's `prometheus` when it is on `PATH`, scraping every service of
//! the plan with a configuration written for its ports, its data in the demo's temporary
//! directory.

use std::path::Path;

use anyhow::Context;

use crate::child::Spec;
use crate::out::say;
use crate::plan::Plan;
use crate::preflight::find_on_path;
use crate::systems::SystemPlan;

/// The process to start and the URL that answers 200 once it is ready, when the plan wants
/// Prometheus and it is installed; says why not otherwise.
///
/// # Errors
///
/// The configuration cannot be written into `scratch`.
pub fn plan(plan: &Plan, scratch: &Path) -> anyhow::Result<Option<(Spec, String)>> {
    let SystemPlan::Lab(lab) = &plan.system else {
        return Ok(None);
    };
    let Some(port) = lab.prometheus_port else {
        return Ok(None);
    };
    let Some(program) = find_on_path("prometheus") else {
        say(
            "prometheus is not installed (Debian: apt-get install prometheus): running the lab \
             without it",
        );
        return Ok(None);
    };
    let dir = scratch.join("prometheus");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, lab.prometheus_config(&plan.addrs))
        .with_context(|| format!("writing {}", config.display()))?;
    let listen = match plan.addrs.bind_addr {
        std::net::IpAddr::V6(ip) => format!("[{ip}]:{port}"),
        std::net::IpAddr::V4(ip) => format!("{ip}:{port}"),
    };
    let spec = Spec {
        name: "prometheus".to_owned(),
        port,
        program,
        args: vec![
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.join("data").display()),
            format!("--web.listen-address={listen}"),
            "--log.format=json".to_owned(),
        ],
        env: Vec::new(),
    };
    Ok(Some((
        spec,
        format!("{}/-/ready", plan.addrs.base_url(port)),
    )))
}
