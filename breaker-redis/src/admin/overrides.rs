//! [`Admin::open`], [`Admin::close`], [`Admin::disable`] and [`Admin::reset`]: the overrides
//! every replica follows, made with the breakers' own `force.lua`.

use super::{Admin, AdminError, OverrideResult};
use crate::protocol::ForceMode;
use crate::store::StoreOps;
use crate::validate;

impl Admin {
    /// Forces `name` open on every replica (every call rejected) until [`reset`](Self::reset).
    pub async fn open(&self, name: &str) -> Result<OverrideResult, AdminError> {
        self.force(name, ForceMode::Open).await
    }

    /// Forces `name` closed on every replica (every call admitted, never trips) until
    /// [`reset`](Self::reset).
    pub async fn close(&self, name: &str) -> Result<OverrideResult, AdminError> {
        self.force(name, ForceMode::Closed).await
    }

    /// Disables `name` on every replica (every call admitted, nothing counted) until
    /// [`reset`](Self::reset).
    pub async fn disable(&self, name: &str) -> Result<OverrideResult, AdminError> {
        self.force(name, ForceMode::Disabled).await
    }

    /// Clears any override of `name` and every count: a fresh closed circuit on every replica.
    pub async fn reset(&self, name: &str) -> Result<OverrideResult, AdminError> {
        self.force(name, ForceMode::Reset).await
    }

    /// Runs `force.lua` with the breaker's published settings (its open timeout, key TTL and
    /// window are the script's arguments), so the override is written, recorded in the
    /// history and published exactly as a replica's own would be.
    async fn force(&self, name: &str, mode: ForceMode) -> Result<OverrideResult, AdminError> {
        validate::name(name)?;
        let Some(stored) = self.settings(name).await? else {
            let exists: bool = self
                .query(redis::cmd("EXISTS").arg(self.base(name)))
                .await?;
            return Err(if exists {
                AdminError::MissingSettings(name.to_owned())
            } else {
                AdminError::UnknownBreaker(name.to_owned())
            });
        };
        let spec = self.spec(name, &stored)?;
        let reply = self.run(self.store.force(&spec, None, mode)).await?;
        let (from, to) = match reply.transition {
            Some(t) => (t.from, t.to),
            None => (reply.state, reply.state),
        };
        Ok(OverrideResult {
            breaker: name.to_owned(),
            from,
            to,
            forced: reply.forced,
            generation: reply.generation,
            at_ms: reply.now_ms,
        })
    }
}
