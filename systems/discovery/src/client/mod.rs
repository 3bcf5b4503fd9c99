//! The discovery client: register, heartbeat, unregister, and find instances.
