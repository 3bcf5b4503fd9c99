//! What to try once everything is up.

use std::fmt::Write;
use std::net::IpAddr;

use crate::cli::{Plan, RedisPlan};

/// The commands to try, for the ports and Redis of `plan`.
pub fn render(plan: &Plan) -> String {
    let host = host(plan);
    let b = format!("{host}:{}", plan.service_b_port);
    let first_a = format!("{host}:{}", plan.service_a_ports[0]);
    let redis_cli = match &plan.redis {
        RedisPlan::Private { port } => format!("redis-cli -p {port}"),
        RedisPlan::External { url } => format!("redis-cli -u {url}"),
    };
    let mut text = String::new();
    let mut line = |s: &str| {
        let _ = writeln!(text, "{s}");
    };
    line("");
    line("Try it (service-b fails every third call; the circuit is shared through Redis):");
    for port in &plan.service_a_ports {
        line(&format!("  curl {host}:{port}/call-service-b"));
    }
    line("");
    line("  # the circuit, as service-a and as Redis see it; and its transitions as they happen:");
    line(&format!("  curl {first_a}/breaker"));
    line(&format!("  {redis_cli} HGETALL 'breaker:{{service-b}}'"));
    line(&format!(
        "  {redis_cli} SUBSCRIBE 'breaker:{{service-b}}:events'"
    ));
    line("");
    line("  # take service-b down, call a few times: the circuit opens for every replica;");
    line("  # then bring it back:");
    let faults = format!("curl -X PUT {b}/faults -H 'content-type: application/json' -d");
    line(&format!("  {faults} '{{\"down\":true}}'"));
    line(&format!("  {faults} '{{\"down\":false}}'"));
    line("");
    if plan.admin_token.is_some() {
        line(
            "  # force the circuit (export ADMIN_TOKEN=<the token you gave> in this shell first):",
        );
        for action in ["open", "close", "reset"] {
            line(&format!(
                "  curl -X POST {first_a}/breaker/{action} -H \"Authorization: Bearer $ADMIN_TOKEN\""
            ));
        }
    } else {
        line("  # the admin calls (POST /breaker/open|close|reset) are off: start the demo with");
        line("  # --admin-token <TOKEN> (or ADMIN_TOKEN) to turn them on.");
    }
    line("");
    line("Press Ctrl-C to stop everything.");
    text
}

fn host(plan: &Plan) -> String {
    match plan.connect_addr() {
        ip if ip.is_loopback() => "localhost".to_owned(),
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cli::BinDir;

    fn plan(redis: RedisPlan, admin_token: Option<&str>) -> Plan {
        Plan {
            redis,
            service_b_port: 8081,
            service_a_ports: vec![8080, 8082],
            bind_addr: "127.0.0.1".parse().expect("an address"),
            bin_dir: BinDir::OwnDir { build: false },
            admin_token: admin_token.map(str::to_owned),
            startup_timeout: Duration::from_secs(1),
            stop_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_commands_name_our_ports_and_the_circuit_key() {
        let text = render(&plan(RedisPlan::Private { port: 6390 }, None));
        for expected in [
            "  curl localhost:8080/call-service-b\n",
            "  curl localhost:8082/call-service-b\n",
            "  curl localhost:8080/breaker\n",
            "  redis-cli -p 6390 HGETALL 'breaker:{service-b}'\n",
            "  redis-cli -p 6390 SUBSCRIBE 'breaker:{service-b}:events'\n",
            "  curl -X PUT localhost:8081/faults -H 'content-type: application/json' -d \
             '{\"down\":true}'\n",
            "--admin-token <TOKEN>",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
        assert!(!text.contains("Bearer"), "{text}");
    }

    #[test]
    fn admin_calls_appear_with_a_token_and_never_show_it() {
        let redis = RedisPlan::External {
            url: "redis://127.0.0.1:7000".to_owned(),
        };
        let text = render(&plan(redis, Some("s3cret")));
        assert!(text.contains(
            "  curl -X POST localhost:8080/breaker/reset -H \"Authorization: Bearer $ADMIN_TOKEN\"\n"
        ));
        assert!(text.contains("redis-cli -u redis://127.0.0.1:7000 HGETALL"));
        assert!(!text.contains("s3cret"), "{text}");
    }
}
