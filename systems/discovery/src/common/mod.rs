//! What several discovery services share.
//!
//! - `data`: the seed's users and orders, and the gateway's fallback answers.
//! - `instance`: the user and order instances' settings, `/health` and registration.

mod data;
mod instance;

pub use data::{
    INVALID_USER_ID, fallback_orders, fallback_users, orders, orders_of, parse_user_id, users,
};
pub use instance::{InstanceConfig, app, instance_name, registered};
