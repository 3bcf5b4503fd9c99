//! One contract suite, run on the in-memory store, on a real Redis, and on a 3-node Redis
//! Cluster: every store must make the same decisions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod timing;

/// Every case, whichever file it is written in.
mod all {
    pub use crate::cases::*;
    pub use crate::timing::*;
}
#[path = "../common/mod.rs"]
mod common;

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                crate::all::$case(crate::common::Env::memory()).await;
            })*
        }

        mod redis {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let server = test_support::RedisServer::start().expect("redis-server");
                crate::all::$case(crate::common::Env::redis(&server).await).await;
            })*
        }

        /// A cluster takes seconds to form, so one cluster runs every case (each on its own names).
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn cluster_runs_every_case() {
            let cluster = test_support::RedisCluster::start().expect("redis cluster");
            let env = crate::common::Env::cluster(&cluster).await;
            $(all::$case(env.with_fresh_clock()).await;)*
        }
    };
}

suite!(
    default_config_trips_like_service_a,
    open_rejects_until_timeout_then_limits_trials,
    trial_successes_close_and_a_failure_reopens,
    stale_outcome_changes_nothing,
    dropped_permit_frees_its_lease,
    expired_lease_frees_its_slot,
    forced_states_apply_to_every_replica,
    fixed_window_restarts_counts,
    rolling_window_forgets_old_buckets,
    seed_consecutive_failures_with_two_successes_to_close,
    seed_failure_count_within_30s,
    seed_more_than_half_in_rolling_window,
    names_do_not_share_state,
    event_stream_reports_this_and_other_replicas_transitions,
    joining_replica_keeps_shared_state,
    concurrent_failures_make_one_transition,
    slow_successes_count_as_failures,
    snapshot_reports_window_counts,
    ignored_outcome_counts_nothing,
    generations_start_at_the_store_clock,
    late_outcomes_count_in_the_window_they_were_admitted_in,
    rolling_window_counts_outcomes_at_admission,
    half_open_rejection_hints_a_short_retry,
);
