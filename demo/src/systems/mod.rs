//! The systems the demo can run, one module each.
//!
//! A system says which binaries it needs, which processes to start in which order (each a
//! [`Service`], ready when `GET /health` answers, or the path its
//! system's `ready_path` names) and what to try once they are up. Adding one
//! means a module with its clap `Args` (flattening [`Common`](crate::cli::Common)), a variant
//! here and one in [`SystemCmd`](crate::cli::SystemCmd).

pub mod ab;
pub mod chain;
pub mod discovery;
pub mod lab;
pub mod shop;

use crate::plan::{Addrs, PortUse, Service};

/// A system's validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemPlan {
    /// service-a replicas calling service-b.
    Ab(ab::AbPlan),
    /// The shop's gateways, payment, inventory and shipping.
    Shop(shop::ShopPlan),
    /// The discovery server, user and order instances, and the API gateway.
    Discovery(discovery::DiscoveryPlan),
    /// The lab's user, order and dashboard, and Prometheus.
    Lab(lab::LabPlan),
    /// The chain: user, order, inventory.
    Chain(chain::ChainPlan),
}

impl SystemPlan {
    /// The binaries the system runs, which are also the packages that build them.
    pub fn binaries(&self) -> &'static [&'static str] {
        match self {
            Self::Ab(_) => ab::BINARIES,
            Self::Shop(_) => shop::BINARIES,
            Self::Discovery(_) => discovery::BINARIES,
            Self::Lab(_) => lab::BINARIES,
            Self::Chain(_) => chain::BINARIES,
        }
    }

    /// The processes to start after Redis, in order.
    pub fn services(&self, addrs: &Addrs) -> Vec<Service> {
        match self {
            Self::Ab(plan) => plan.services(addrs),
            Self::Shop(plan) => plan.services(addrs),
            Self::Discovery(plan) => plan.services(addrs),
            Self::Lab(plan) => plan.services(addrs),
            Self::Chain(plan) => plan.services(addrs),
        }
    }

    /// The commands to try once everything is up.
    pub fn instructions(&self, addrs: &Addrs) -> String {
        match self {
            Self::Ab(plan) => plan.instructions(addrs),
            Self::Shop(plan) => plan.instructions(addrs),
            Self::Discovery(plan) => plan.instructions(addrs),
            Self::Lab(plan) => plan.instructions(addrs),
            Self::Chain(plan) => plan.instructions(addrs),
        }
    }

    /// Ports the system listens on besides its services': the lab's Prometheus.
    pub fn other_ports(&self) -> Vec<PortUse> {
        match self {
            Self::Lab(plan) => plan.prometheus_port.map_or_else(Vec::new, |port| {
                vec![PortUse {
                    name: "prometheus".to_owned(),
                    port,
                    option: "--prometheus-port",
                }]
            }),
            _ => Vec::new(),
        }
    }

    /// The path whose 200 tells that `service` is ready: `/health` unless its system says
    /// otherwise.
    pub fn ready_path(&self, service: &Service) -> &'static str {
        match self {
            Self::Discovery(plan) => plan.ready_path(service),
            _ => "/health",
        }
    }
}

/// Collects lines into a block of text.
#[derive(Debug, Default)]
pub struct Text(String);

impl Text {
    /// Appends `line` and a newline.
    pub fn line(&mut self, line: impl AsRef<str>) {
        self.0.push_str(line.as_ref());
        self.0.push('\n');
    }

    /// The text.
    pub fn into_string(self) -> String {
        self.0
    }
}
