//! The save hook of `advance`: how a portal with many workers stores a flow without losing an
//! update, and why the create is only sent once its marker is stored.
//!
//! A flow is often read by several workers at once (a callback handler, a batch job, a retry
//! queue). Each change raises the flow's revision; a checkpoint saves with compare-and-swap on the
//! revision it last saved and fails when another writer moved the row on. `advance` calls it after
//! every step that changed the flow and before the create, and stops when it fails, so two
//! `advance` calls racing on copies of one flow send one create, and a callback saved by another
//! worker is never overwritten.

use super::Onboarding;
use crate::error::Result;
use futures::future::BoxFuture;

/// Saves a flow for [`Onboarding::advance_with_checkpoint`].
///
/// `previous_revision` is the revision this `advance` last saved (the flow's revision when the
/// call began, for the first save): save the flow only if the stored row still has it, and fail
/// otherwise (a `flow_state` error is the usual answer), so a stale writer never overwrites a newer
/// one. The returned future owns what it needs (the JSON, say), so a binding can await a host's
/// asynchronous save.
pub trait Checkpoint: Send {
    /// Saves `flow` (its [`to_json`](Onboarding::to_json) and [`revision`](Onboarding::revision))
    /// if the stored row is still at `previous_revision`.
    fn save(&mut self, flow: &Onboarding, previous_revision: u64)
    -> BoxFuture<'static, Result<()>>;
}

impl<F> Checkpoint for F
where
    F: FnMut(&Onboarding, u64) -> Result<()> + Send,
{
    fn save(
        &mut self,
        flow: &Onboarding,
        previous_revision: u64,
    ) -> BoxFuture<'static, Result<()>> {
        let result = self(flow, previous_revision);
        Box::pin(async move { result })
    }
}

/// No checkpoint: the caller saves the flow after `advance` returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCheckpoint;

impl Checkpoint for NoCheckpoint {
    fn save(&mut self, _: &Onboarding, _: u64) -> BoxFuture<'static, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}
