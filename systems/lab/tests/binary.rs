//! The `lab` binary: each subcommand serves, and a bad setting stops it naming the variable.

mod common;

use common::{DEADLINE, binary};

#[test]
fn each_service_starts_and_a_bad_setting_names_its_variable() {
    for service in ["user", "order", "dashboard"] {
        let child = binary(service, &[("LOG_FORMAT", "json")]);
        child
            .wait_for_line("listening on ", DEADLINE)
            .expect("listening");
        assert!(child.output().contains(r#""level":"#), "{}", child.output());
    }
    for (service, variable, value) in [
        ("order", "BREAKER__TIMEOUT", "soon"),
        ("order", "RETRY__ATTEMPTS", "0"),
        ("order", "USER_SERVICE_URL", "not a url"),
        ("dashboard", "CHECK_TIMEOUT", "0s"),
        ("user", "FAULTS__FAILURE_RATE", "2"),
    ] {
        let child = binary(service, &[(variable, value)]);
        let status = child.wait_exit(DEADLINE).expect("exits");
        assert!(!status.success(), "{service}: {}", child.output());
        assert!(
            child.output().contains(variable),
            "{service}: {}",
            child.output()
        );
    }
}
