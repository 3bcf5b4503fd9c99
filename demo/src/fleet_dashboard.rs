//! The fleet dashboard every system gets (`dashboard` binary, port 8088 unless
//! `--fleet-dashboard-port` moves it, off with `--no-fleet-dashboard`): every breaker in the
//! system's Redis, live. Started after the system's services, supervised like them.

use crate::plan::{Plan, PortUse, Service};
use crate::systems::SystemPlan;

/// The binary, which is also the package that builds it.
pub const BINARY: &str = "dashboard";

/// Its name in the demo's output.
pub const NAME: &str = "fleet-dashboard";

/// Its port unless `--fleet-dashboard-port` says otherwise.
pub const DEFAULT_PORT: u16 = 8088;

/// The option that moves its port.
const PORT_OPTION: &str = "--fleet-dashboard-port";

/// The dashboard's process, on the system's Redis; with `ab`'s `--admin-token` its overrides
/// take the same token (otherwise an exported `ADMIN_TOKEN` reaches it like every service).
pub fn service(plan: &Plan) -> Option<Service> {
    let port = plan.fleet_dashboard?;
    let mut env = plan.addrs.server_env(NAME, port);
    env.push(("REDIS_URL".to_owned(), plan.addrs.redis_url()));
    if let SystemPlan::Ab(ab) = &plan.system
        && let Some(token) = &ab.admin_token
    {
        env.push(("ADMIN_TOKEN".to_owned(), token.clone()));
    }
    Some(Service {
        name: NAME.to_owned(),
        port,
        port_option: PORT_OPTION,
        binary: BINARY,
        args: Vec::new(),
        env,
    })
}

/// Its port, for the checks that every port differs and is free.
pub fn port(plan: &Plan) -> Option<PortUse> {
    plan.fleet_dashboard.map(|port| PortUse {
        name: NAME.to_owned(),
        port,
        option: PORT_OPTION,
    })
}

/// The line printed above the system's own instructions.
pub fn instructions(plan: &Plan) -> String {
    match plan.fleet_dashboard {
        Some(port) => format!(
            "\nFleet dashboard (every breaker in Redis, live; overrides with ADMIN_TOKEN): \
             http://{}:{port}/\n",
            plan.addrs.host()
        ),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::testing::{parse, refused};
    use crate::plan::Plan;

    /// The plan for `args` with the dashboard on (the helpers turn it off unless asked).
    fn plan_with_dashboard(args: &[&str]) -> Plan {
        let mut all = args.to_vec();
        if !all.contains(&"--fleet-dashboard-port") {
            all.extend(["--fleet-dashboard-port", "8088"]);
        }
        parse(&all).expect("parses").into_plan().expect("valid")
    }

    #[test]
    fn every_system_gets_the_dashboard_on_its_redis() {
        for system in ["ab", "shop", "discovery", "chain", "lab"] {
            let plan = plan_with_dashboard(&[system, "--redis-port", "7000"]);
            let service = super::service(&plan).expect("on by default");
            assert_eq!(
                (service.name.as_str(), service.port),
                ("fleet-dashboard", 8088)
            );
            assert!(
                service
                    .env
                    .contains(&("REDIS_URL".to_owned(), "redis://127.0.0.1:7000".to_owned())),
                "{system}: {:?}",
                service.env
            );
            assert!(plan.binaries().contains(&"dashboard"), "{system}");
            assert!(plan.ports().iter().any(|p| p.name == "fleet-dashboard"));
            assert!(super::instructions(&plan).contains("http://localhost:8088/"));
        }
    }

    #[test]
    fn it_can_be_moved_or_left_out_and_takes_ab_s_token() {
        let plan = plan_with_dashboard(&["--admin-token", "t", "--fleet-dashboard-port", "9300"]);
        let service = super::service(&plan).expect("on");
        assert_eq!(service.port, 9300);
        assert!(
            service
                .env
                .contains(&("ADMIN_TOKEN".to_owned(), "t".to_owned()))
        );
        let off = parse(&["shop", "--no-fleet-dashboard"])
            .expect("parses")
            .into_plan()
            .expect("valid");
        assert!(super::service(&off).is_none());
        assert!(!off.binaries().contains(&"dashboard"));
        assert_eq!(super::instructions(&off), "");
        let err = refused(&["--fleet-dashboard-port", "8081"]);
        assert_eq!(
            err,
            "port 8081 is given to both service-b and fleet-dashboard; every port must differ"
        );
    }
}
