//! The one policy every binding uses for a flow shared by concurrent host code (FlowHandle):
//! reads during an advance see the last finished step and never wait, a callback or a second
//! advance during one is `flow_state` and changes nothing, and a cancel keeps every finished step.
//! Each test pauses a real advance inside its checkpoint, so "during" is exact, not a race.

mod common;

use common::*;
use ctt_onboard::{
    Checkpoint, ErrorCode, FlowHandle, NewEnterprise, Onboarding, OnboardingPlan, Progress,
    Service, Step, StepState,
};
use ctt_sim::SimConfig;
use futures::future::BoxFuture;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, Semaphore};

const REDIRECT: &str = "https://portal.example/ctt/callback";

fn handle(name: &str) -> FlowHandle {
    let mut plan = OnboardingPlan::new(NewEnterprise::new(name, vec![Service::Sms]), REDIRECT);
    plan.gateway_regions = vec!["US-East".into()];
    FlowHandle::new(plan).expect("plan")
}

/// A checkpoint that records each save, tells the test it reached one, and waits for the test
/// to let it go on.
#[derive(Clone)]
struct Gate {
    reached: Arc<Notify>,
    go: Arc<Semaphore>,
    saved: Arc<Mutex<Vec<u64>>>,
}

impl Gate {
    fn new() -> Self {
        Self {
            reached: Arc::new(Notify::new()),
            go: Arc::new(Semaphore::new(0)),
            saved: Arc::default(),
        }
    }
}

impl Gate {
    /// Lets the paused save finish and waits until the advance pauses in its next save.
    async fn pass(&self) {
        self.go.add_permits(1);
        self.reached.notified().await;
    }

    /// The revision the `n`th save (from 0) was given.
    fn saved(&self, n: usize) -> u64 {
        self.saved.lock().expect("saved")[n]
    }
}

impl Checkpoint for Gate {
    fn save(&mut self, flow: &Onboarding, _: u64) -> BoxFuture<'static, ctt_onboard::Result<()>> {
        let gate = self.clone();
        let revision = flow.revision();
        Box::pin(async move {
            gate.saved.lock().expect("saved").push(revision);
            gate.reached.notify_one();
            gate.go.acquire().await.expect("gate").forget();
            Ok(())
        })
    }
}

fn step_state(h: &FlowHandle, step: Step) -> StepState {
    h.read(|f| {
        f.status()
            .into_iter()
            .find(|s| s.step == step)
            .map(|s| s.state)
            .expect("step")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_during_an_advance_see_the_last_finished_step_and_never_wait() {
    let sim = sim_with(SimConfig::default());
    let client = client(&sim);
    let h = handle("Handle Reads");
    let gate = Gate::new();
    let task = {
        let (h, client, mut gate) = (h.clone(), client.clone(), gate.clone());
        tokio::spawn(async move { h.advance(&client, &mut gate).await })
    };
    gate.reached.notified().await;
    assert!(h.is_advancing());
    // Paused in the first save (the "create sent" marker, before the create is sent): readers
    // see the flow as it was, and reading does not wait for the paused advance (it would hang).
    assert_eq!(h.read(|f| f.revision()), 0);
    assert_eq!(step_state(&h, Step::CreateEnterprise), StepState::Pending);
    // Once a save returns, readers see what it saved: the marker, then the created enterprise.
    gate.pass().await;
    assert_eq!(h.read(|f| f.revision()), gate.saved(0));
    assert!(h.read(|f| f.enterprise_id()).is_none());
    gate.pass().await;
    assert_eq!(h.snapshot().revision(), gate.saved(1));
    assert_eq!(step_state(&h, Step::CreateEnterprise), StepState::Done);
    assert!(h.read(|f| f.enterprise_id()).is_some());
    gate.go.add_permits(1000);
    let progress = task.await.expect("join").expect("advance");
    assert!(matches!(progress, Progress::AwaitingAdmin { .. }));
    assert!(!h.is_advancing());
    assert_eq!(h.read(|f| f.progress()), Some(progress));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_or_a_second_advance_during_an_advance_is_flow_state_and_changes_nothing() {
    let sim = sim_with(SimConfig::default());
    let client = client(&sim);
    let h = handle("Handle Busy");
    let url = match h
        .advance(&client, &mut ctt_onboard::NoCheckpoint)
        .await
        .expect("first advance")
    {
        Progress::AwaitingAdmin { url, .. } => url,
        other => panic!("not awaiting: {other:?}"),
    };
    let cb = sim
        .approve_without_posting(&url, "contoso")
        .expect("approve");
    let keys = client.callback_keys().expect("keys").clone();
    h.handle_callback(&keys, &cb.url, &cb.body.to_string())
        .expect("genuine callback");
    let gate = Gate::new();
    let task = {
        let (h, client, mut gate) = (h.clone(), client.clone(), gate.clone());
        tokio::spawn(async move { h.advance(&client, &mut gate).await })
    };
    gate.reached.notified().await;
    let before = h.read(|f| f.to_json().expect("json"));
    let err = h
        .handle_callback(&keys, &cb.url, &cb.body.to_string())
        .expect_err("a callback while advancing");
    assert_eq!(err.code(), ErrorCode::FlowState);
    assert!(err.to_string().contains("in progress"), "{err}");
    let err = h
        .advance(&client, &mut ctt_onboard::NoCheckpoint)
        .await
        .expect_err("a second advance");
    assert_eq!(err.code(), ErrorCode::FlowState);
    assert_eq!(h.read(|f| f.to_json().expect("json")), before, "unchanged");
    gate.go.add_permits(1000);
    task.await.expect("join").expect("advance");
    assert!(!h.is_advancing());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_the_advance_and_keeps_every_finished_step() {
    let sim = sim_with(SimConfig::default());
    let client = client(&sim);
    let h = handle("Handle Cancel");
    assert!(!h.cancel_advance(), "nothing to cancel");
    let gate = Gate::new();
    let task = {
        let (h, client, mut gate) = (h.clone(), client.clone(), gate.clone());
        tokio::spawn(async move { h.advance(&client, &mut gate).await })
    };
    gate.reached.notified().await;
    gate.pass().await;
    gate.pass().await;
    // Paused in the third save: the marker and the create were saved and are kept; the step in
    // flight (asking for the registration URL) is not.
    assert_eq!(h.read(|f| f.revision()), gate.saved(1));
    assert!(h.cancel_advance());
    let err = task.await.expect("join").expect_err("cancelled");
    assert_eq!(err.code(), ErrorCode::FlowState);
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert!(!h.is_advancing());
    let id = h
        .read(|f| f.enterprise_id())
        .expect("the finished create is kept");
    // A later advance goes on from there: the enterprise is not created twice.
    let progress = h
        .advance(&client, &mut ctt_onboard::NoCheckpoint)
        .await
        .expect("advance after cancel");
    assert!(matches!(progress, Progress::AwaitingAdmin { .. }));
    assert_eq!(h.read(|f| f.enterprise_id()), Some(id));
    assert_eq!(sim.enterprises().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_advance_is_marked_at_once_so_no_cancel_or_second_start_slips_past() {
    let sim = sim_with(SimConfig::default());
    let client = client(&sim);
    let h = handle("Handle Start");
    let future = h
        .start_advance(client.clone(), Box::new(ctt_onboard::NoCheckpoint))
        .expect("start");
    // Not yet polled: already advancing, so a second start fails now and a cancel is kept.
    assert!(h.is_advancing());
    let err = h
        .start_advance(client.clone(), Box::new(ctt_onboard::NoCheckpoint))
        .err()
        .expect("a second start");
    assert_eq!(err.code(), ErrorCode::FlowState);
    assert!(h.cancel_advance());
    let err = future.await.expect_err("cancelled before its first poll");
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert_eq!(sim.enterprises().len(), 0, "nothing was sent");
    // A started advance dropped unpolled clears the mark too.
    let future = h
        .start_advance(client.clone(), Box::new(ctt_onboard::NoCheckpoint))
        .expect("start again");
    drop(future);
    assert!(!h.is_advancing());
    let progress = h
        .start_advance(client, Box::new(ctt_onboard::NoCheckpoint))
        .expect("start")
        .await
        .expect("advance");
    assert!(matches!(progress, Progress::AwaitingAdmin { .. }));
}
