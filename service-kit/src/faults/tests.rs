use serde_json::json;

use super::*;
use crate::config::Loader;

/// A service's own setting, as a service would add one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct Every {
    every: u64,
}

#[derive(Debug, Default, Deserialize)]
struct EveryUpdate {
    every: Option<u64>,
}

impl Extra for Every {
    type Update = EveryUpdate;

    fn updated(&self, update: &EveryUpdate) -> Result<Self, InvalidFaults> {
        match update.every {
            Some(every) if every > 100 => Err(InvalidFaults::new("every", "must be at most 100")),
            every => Ok(Self {
                every: every.unwrap_or(self.every),
            }),
        }
    }
}

fn parse<U: DeserializeOwned>(body: &str) -> Result<FaultsUpdate<U>, serde_json::Error> {
    serde_json::from_str(body)
}

fn every(n: u64) -> Faults<Every> {
    Faults::with_extra(Every { every: n })
}

#[test]
fn the_extra_is_serialized_first_at_the_top_level() {
    let text = serde_json::to_string(&every(3)).expect("serializes");
    assert_eq!(
        text,
        r#"{"every":3,"failure_rate":0.0,"delay_ms":0,"down":false}"#
    );
    let text = serde_json::to_string(&Faults::<()>::none()).expect("serializes");
    assert_eq!(text, r#"{"failure_rate":0.0,"delay_ms":0,"down":false}"#);
}

#[test]
fn partial_updates_keep_omitted_and_null_fields() {
    let start = every(3);
    let update = parse::<EveryUpdate>(r#"{"delay_ms": 5, "down": null}"#).expect("valid");
    let next = start.updated(&update).expect("in range");
    assert_eq!(
        next,
        Faults {
            delay_ms: 5,
            ..start
        }
    );
    let update = parse::<EveryUpdate>(r#"{"every": 0, "failure_rate": 1}"#).expect("valid");
    let last = next.updated(&update).expect("in range");
    let expected = Faults {
        extra: Every { every: 0 },
        failure_rate: 1.0,
        ..next
    };
    assert_eq!(last, expected);
}

/// `deny_unknown_fields` with a `flatten`ed field: serde checks what neither part took.
#[test]
fn unknown_fields_and_wrong_types_are_rejected_with_or_without_an_extra() {
    let bad = [
        r#"{"down": true, "colour": "red"}"#,
        r#"{"every": "3"}"#,
        r#"{"every": -1}"#,
        r#"{"delay_ms": 1.5}"#,
        r#"{"down": "yes"}"#,
        r#"{"failure_rate": "0.5"}"#,
        r#"[]"#,
    ];
    for body in bad {
        assert!(parse::<EveryUpdate>(body).is_err(), "{body}");
    }
    for body in [r#"{"every": 3}"#, r#"{"colour": "red"}"#, r#"{"down": 1}"#] {
        assert!(parse::<()>(body).is_err(), "{body}");
    }
    assert!(parse::<()>(r#"{"down": true}"#).is_ok());
    assert!(parse::<()>("{}").is_ok());
}

#[test]
fn out_of_range_values_are_rejected_naming_the_field() {
    let start = every(3);
    let cases = [
        (json!({"failure_rate": 1.5}), "failure_rate"),
        (json!({"failure_rate": -0.1}), "failure_rate"),
        (json!({"failure_rate": -0.0}), "failure_rate"),
        (json!({"delay_ms": MAX_DELAY_MS + 1}), "delay_ms"),
        (json!({"every": 101, "down": true}), "every"),
        (json!({"down": true, "failure_rate": 2}), "failure_rate"),
    ];
    for (body, field) in cases {
        let update = serde_json::from_value(body.clone()).expect("parses");
        let err = start.updated(&update).expect_err("out of range");
        assert_eq!(err.field, field, "{body}");
        assert!(err.to_string().starts_with(field), "{err}");
    }
    let edge = parse::<EveryUpdate>(r#"{"failure_rate": 1.0, "delay_ms": 60000}"#);
    assert!(start.updated(&edge.expect("parses")).is_ok());
}

#[test]
fn an_invalid_update_changes_nothing_and_reset_restores_the_defaults() {
    let control = FaultControl::seeded(every(3), 1);
    let bad = parse::<EveryUpdate>(r#"{"down": true, "every": 500}"#).expect("parses");
    assert!(control.update(&bad).is_err());
    assert_eq!(control.current(), every(3));
    let good = parse::<EveryUpdate>(r#"{"down": true, "every": 5}"#).expect("parses");
    let changed = control.update(&good).expect("in range");
    assert_eq!(control.current(), changed);
    assert!(changed.down);
    assert_eq!(control.reset(), every(3));
    assert_eq!(control.current(), every(3));
}

#[test]
fn down_wins_then_the_roll_decides() {
    let faults = Faults {
        failure_rate: 0.25,
        ..Faults::<()>::none()
    };
    assert_eq!(faults.decide(0.2), Outcome::Failure);
    assert_eq!(faults.decide(0.3), Outcome::Pass);
    let down = Faults {
        down: true,
        ..faults
    };
    assert_eq!(down.decide(0.9), Outcome::Down);
    assert_eq!(Outcome::Down.status().as_u16(), 503);
    assert_eq!(Outcome::Failure.status().as_u16(), 500);
}

#[test]
fn the_same_seed_gives_the_same_outcomes() {
    let half = Faults {
        failure_rate: 0.5,
        ..Faults::<()>::none()
    };
    let outcomes = |seed| {
        let control = FaultControl::seeded(half, seed);
        (0..64).map(|_| control.decide(&half)).collect::<Vec<_>>()
    };
    let first = outcomes(7);
    assert_eq!(first, outcomes(7));
    assert!(first.contains(&Outcome::Failure) && first.contains(&Outcome::Pass));
    assert_ne!(first, outcomes(8));

    let control = FaultControl::new(half);
    let always = Faults {
        failure_rate: 1.0,
        ..half
    };
    assert!((0..64).all(|_| control.decide(&always) == Outcome::Failure));
    assert!((0..64).all(|_| control.decide(&Faults::none()) == Outcome::Pass));
}

#[tokio::test]
async fn check_decides_with_the_settings_read_on_arrival() {
    let control = FaultControl::seeded(every(4), 3);
    let down = parse::<EveryUpdate>(r#"{"down": true, "delay_ms": 1}"#).expect("parses");
    let faults = control.update(&down).expect("in range");
    let decision = control.check().await;
    assert_eq!(decision.outcome, Outcome::Down);
    assert_eq!(decision.faults, faults);
}

fn loader(vars: &[(&str, &str)]) -> Loader {
    Loader::from_vars(vars.iter().copied()).expect("loads")
}

#[test]
fn start_up_overrides_come_from_faults_variables() {
    let vars = [
        ("FAULTS__FAILURE_RATE", "0.5"),
        ("FAULTS__DOWN", "true"),
        ("FAULTS__SEED", "42"),
        ("PATH", "/bin"),
    ];
    let config = FaultsConfig::from_loader(&loader(&vars)).expect("valid");
    assert_eq!(config.seed, Some(42));
    let control = FaultControl::from_config(every(3), &config).expect("in range");
    let expected = Faults {
        failure_rate: 0.5,
        down: true,
        ..every(3)
    };
    assert_eq!(control.defaults(), &expected);
    assert_eq!(control.reset(), expected);
    let none = FaultsConfig::from_loader(&loader(&[])).expect("valid");
    assert_eq!(none, FaultsConfig::default());
}

#[test]
fn bad_start_up_overrides_name_the_variable() {
    let cases = [
        ("FAULTS__FAILURE_RATE", "1.5"),
        ("FAULTS__DELAY_MS", "60001"),
        ("FAULTS__SEED", "abc"),
        ("FAULTS__DOWN", "maybe"),
        ("FAULTS__COLOUR", "red"),
    ];
    for (var, value) in cases {
        let config = FaultsConfig::from_loader(&loader(&[(var, value)]));
        let err = config
            .and_then(|config| FaultControl::from_config(every(3), &config).map(|_| ()))
            .expect_err("rejected");
        assert!(err.to_string().contains(var), "{var}={value}: {err}");
    }
}
