//! One flow shared by a host language's objects: what a read, a callback, a second advance or a
//! cancel does while an `advance` runs, decided once for every binding.
//!
//! A binding hands one flow to code that runs concurrently: a portal's request handler reads
//! `status()` while a background task advances, a callback arrives mid-advance, a user aborts.
//! Each binding used to answer that with its own lock (Python blocked the reader, Node and Kotlin
//! threw `flow_state`, and only Node could cancel). [`FlowHandle`] is the one answer:
//!
//! - reads never wait for an advance: they see the flow as of the advance's last finished step
//!   (the state it last handed to its checkpoint);
//! - a callback, or a second advance, while an advance runs is `flow_state` and changes nothing;
//! - [`cancel_advance`](FlowHandle::cancel_advance) stops the advance in flight at its next await
//!   point; every step that finished is kept, the one in flight is not.

use super::{CallbackOutcome, Checkpoint, Onboarding, OnboardingPlan, Progress};
use crate::callback::CallbackKeys;
use crate::client::Client;
use crate::error::{Error, Result};
use futures::future::BoxFuture;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// A flow shared by a binding's host objects; clones are the same flow. See the module docs for
/// what each call does while an advance runs.
#[derive(Debug, Clone)]
pub struct FlowHandle {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// The flow as of the last finished step, and whether an advance is running.
    state: Mutex<State>,
    /// Bumped by `cancel_advance`; the running advance watches it.
    cancel: watch::Sender<u64>,
}

#[derive(Debug)]
struct State {
    flow: Onboarding,
    advancing: bool,
}

fn busy(what: &str) -> Error {
    Error::flow_state(format!(
        "an advance of this flow is in progress: {what} after it returns (or cancel it)"
    ))
}

impl FlowHandle {
    /// Shares `flow`.
    pub fn from_flow(flow: Onboarding) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    flow,
                    advancing: false,
                }),
                cancel: watch::Sender::new(0),
            }),
        }
    }

    /// A new flow for `plan`; `invalid_input` names what is wrong with the plan.
    pub fn new(plan: OnboardingPlan) -> Result<Self> {
        Onboarding::new(plan).map(Self::from_flow)
    }

    /// Loads a flow saved with [`Onboarding::to_json`].
    pub fn from_json(json: &str) -> Result<Self> {
        Onboarding::from_json(json).map(Self::from_flow)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the flow as of the last finished step; never waits for an advance.
    pub fn read<T>(&self, f: impl FnOnce(&Onboarding) -> T) -> T {
        f(&self.lock().flow)
    }

    /// A copy of the flow as of the last finished step.
    pub fn snapshot(&self) -> Onboarding {
        self.read(Onboarding::clone)
    }

    /// True while an advance of this flow runs.
    pub fn is_advancing(&self) -> bool {
        self.lock().advancing
    }

    /// [`Onboarding::handle_callback`] on the shared flow; `flow_state` while an advance runs
    /// (the flow is unchanged: post the callback again once it returns).
    pub fn handle_callback(
        &self,
        keys: &CallbackKeys,
        url: &str,
        body: &str,
    ) -> Result<CallbackOutcome> {
        let mut state = self.lock();
        if state.advancing {
            return Err(busy("handle the callback"));
        }
        state.flow.handle_callback(keys, url, body)
    }

    /// [`Onboarding::advance_with_checkpoint`] on the shared flow. `flow_state` when another
    /// advance of it runs; `flow_state` "cancelled" when [`cancel_advance`](Self::cancel_advance)
    /// stopped it (every step that finished is kept).
    pub async fn advance(
        &self,
        client: &Client,
        checkpoint: &mut dyn Checkpoint,
    ) -> Result<Progress> {
        let started = self.start()?;
        started.run(client, checkpoint).await
    }

    /// [`advance`](Self::advance) for a binding that hands the work to a runtime: the flow is
    /// marked advancing now, before this returns, so a `cancel_advance` right after it is never
    /// lost and "already advancing" is an error of this call, not of the future. The future owns
    /// what it needs.
    pub fn start_advance(
        &self,
        client: Client,
        mut checkpoint: Box<dyn Checkpoint>,
    ) -> Result<BoxFuture<'static, Result<Progress>>> {
        let started = self.start()?;
        Ok(Box::pin(async move {
            started.run(&client, checkpoint.as_mut()).await
        }))
    }

    fn start(&self) -> Result<Started> {
        let flow = {
            let mut state = self.lock();
            if state.advancing {
                return Err(busy("advance again"));
            }
            state.advancing = true;
            state.flow.clone()
        };
        let running = Running(self.clone());
        let mut cancelled = self.shared.cancel.subscribe();
        cancelled.borrow_and_update();
        Ok(Started {
            flow,
            running,
            cancelled,
        })
    }

    /// Stops the advance in flight at its next await point; false when none runs.
    pub fn cancel_advance(&self) -> bool {
        if !self.is_advancing() {
            return false;
        }
        self.shared.cancel.send_modify(|n| *n = n.wrapping_add(1));
        true
    }
}

/// Clears the advancing mark when an advance ends: returned, failed, cancelled or dropped
/// (even dropped before it was first polled).
struct Running(FlowHandle);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.lock().advancing = false;
    }
}

/// An advance that has marked the flow and subscribed to cancels, ready to run.
struct Started {
    flow: Onboarding,
    running: Running,
    cancelled: watch::Receiver<u64>,
}

impl Started {
    async fn run(mut self, client: &Client, checkpoint: &mut dyn Checkpoint) -> Result<Progress> {
        let handle = self.running.0.clone();
        let mut publishing = Publishing {
            user: checkpoint,
            handle: handle.clone(),
        };
        let outcome = {
            let advance = self.flow.advance_with_checkpoint(client, &mut publishing);
            tokio::pin!(advance);
            tokio::select! {
                outcome = &mut advance => Some(outcome),
                _ = self.cancelled.changed() => None,
            }
        };
        match outcome {
            Some(outcome) => {
                handle.lock().flow = self.flow;
                drop(self.running);
                outcome
            }
            None => Err(Error::flow_state(
                "the advance was cancelled; every step that finished is kept",
            )),
        }
    }
}

/// The caller's checkpoint, and then the shared flow updated, so readers see each finished step.
struct Publishing<'a> {
    user: &'a mut dyn Checkpoint,
    handle: FlowHandle,
}

impl Checkpoint for Publishing<'_> {
    fn save(
        &mut self,
        flow: &Onboarding,
        previous_revision: u64,
    ) -> BoxFuture<'static, Result<()>> {
        let save = self.user.save(flow, previous_revision);
        let handle = self.handle.clone();
        let finished = flow.clone();
        Box::pin(async move {
            save.await?;
            handle.lock().flow = finished;
            Ok(())
        })
    }
}
