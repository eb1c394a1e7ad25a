//! Runs an export's future on napi's tokio runtime and settles its Promise through one
//! long-lived threadsafe function per environment (the main thread, each worker).
//!
//! napi's own bridge (`#[napi] async fn`, `Env::spawn_future`) creates a threadsafe function per
//! call (a libuv handle and an env cleanup hook): that was most of the ~20 µs a no-IO await took.
//! Here a finished future queues its outcome on its environment's one threadsafe function, whose
//! callback, on the JavaScript thread, converts the value and settles the promise. The function
//! is ref'd while any call is in flight and unref'd when none is: a pending call keeps the
//! process alive, an idle client does not. It is napi's own `ThreadsafeFunction`, which knows
//! when Node has closed it (the environment going away): a call finishing after that is dropped.

use crate::error::to_napi;
use ctt_onboard::{__bindings, Error, ErrorCode};
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status, sys};
use std::cell::RefCell;
use std::future::Future;
use std::ptr;
use std::sync::Arc;

/// How to settle a call's promise, run on the JavaScript thread.
type Outcome = Box<dyn FnOnce(sys::napi_env) -> napi::Result<sys::napi_value> + Send>;
/// An environment's queue of finished calls: a weak threadsafe function over a no-op.
type Queue = ThreadsafeFunction<(Deferred, Outcome), (), (), Status, false, true>;

/// A call's promise.
struct Deferred(sys::napi_deferred);
// SAFETY: the `napi_deferred` is only moved through the queue and used on the JavaScript thread.
unsafe impl Send for Deferred {}

thread_local! {
    /// Each environment's queue (kept by its JavaScript thread) and how many calls it has in flight.
    static QUEUES: RefCell<Vec<(sys::napi_env, Arc<Queue>, usize)>> =
        const { RefCell::new(Vec::new()) };
}

/// A call in flight, held by its tokio task: it queues an outcome exactly once, also when the
/// task is dropped unfinished (the runtime shutting down), so the in-flight count comes back down.
struct Pending(Arc<Queue>, Option<Deferred>);

impl Pending {
    fn push(&mut self, outcome: Outcome) {
        if let Some(deferred) = self.1.take() {
            // A closed queue (the environment is gone) drops it: no JavaScript is left to see it.
            let mode = ThreadsafeFunctionCallMode::NonBlocking;
            self.0.call((deferred, outcome), mode);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let message = "the call was dropped before it finished (the runtime is shutting down)";
        self.push(Box::new(move |_| {
            Err(to_napi(Error::new(ErrorCode::Api, message)))
        }));
    }
}

/// Runs `fut` on napi's tokio runtime and returns a Promise settled with its outcome: the value
/// converted with its `ToNapiValue`, or the core error encoded for `lib/errors.cjs`. A panic
/// rejects with core's `api` error.
pub fn spawn<'env, T, F>(env: &'env Env, fut: F) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = ctt_onboard::Result<T>> + Send + 'static,
{
    let queue = started(env)?;
    let (raw, mut deferred, mut promise) = (env.raw(), ptr::null_mut(), ptr::null_mut());
    // SAFETY: on the JavaScript thread of `env` (an export's callback), with out pointers to locals.
    let status = unsafe { sys::napi_create_promise(raw, &mut deferred, &mut promise) };
    if status != sys::Status::napi_ok {
        finished(raw);
        return Err(napi::Error::new(status.into(), "creating a promise failed"));
    }
    let mut pending = Pending(queue, Some(Deferred(deferred)));
    napi::bindgen_prelude::spawn(async move {
        let result = __bindings::catch_panic(fut).await.map_err(to_napi);
        // SAFETY: `settle` runs this on the JavaScript thread of `env`, inside napi's handle
        // scope for the threadsafe function's callback.
        pending.push(Box::new(move |env| {
            result.and_then(|value| unsafe { T::to_napi_value(env, value) })
        }));
    });
    Ok(PromiseRaw::new(raw, promise))
}

/// Counts a call in on `env`'s queue, made on its first call; the first call in flight refs it
/// (keeps the event loop alive).
fn started(env: &Env) -> napi::Result<Arc<Queue>> {
    let raw = env.raw();
    if !QUEUES.with_borrow(|qs| qs.iter().any(|q| q.0 == raw)) {
        let noop = env.create_function_from_closure::<(), (), _>("settle", |_| Ok(()))?;
        let queue = (noop.build_threadsafe_function::<(Deferred, Outcome)>())
            .weak::<true>()
            .callee_handled::<false>()
            .build_callback(|ctx| {
                settle(ctx.env.raw(), ctx.value);
                Ok(())
            })?;
        QUEUES.with_borrow_mut(|qs| qs.push((raw, Arc::new(queue), 0)));
    }
    QUEUES.with_borrow_mut(|qs| {
        let Some(q) = qs.iter_mut().find(|q| q.0 == raw) else {
            return Err(napi::Error::from_reason("the call queue is missing"));
        };
        q.2 += 1;
        if q.2 == 1 {
            // SAFETY: on the JavaScript thread of `env`, with its live queue.
            unsafe { sys::napi_ref_threadsafe_function(raw, q.1.raw()) };
        }
        Ok(q.1.clone())
    })
}

/// Counts a call out; the last one in flight unrefs the queue (an idle process may exit).
fn finished(env: sys::napi_env) {
    QUEUES.with_borrow_mut(|qs| {
        if let Some(q) = qs.iter_mut().find(|q| q.0 == env) {
            q.2 = q.2.saturating_sub(1);
            if q.2 == 0 {
                // SAFETY: on the JavaScript thread of `env`, with its live queue.
                unsafe { sys::napi_unref_threadsafe_function(env, q.1.raw()) };
            }
        }
    });
}

/// The queue's callback, on the JavaScript thread: settles one call's promise.
fn settle(env: sys::napi_env, (Deferred(deferred), outcome): (Deferred, Outcome)) {
    finished(env);
    // A panic must not unwind into napi: it rejects the promise like any other panic.
    let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| outcome(env)))
        .unwrap_or_else(|p| Err(to_napi(Error::from_panic(p))));
    // SAFETY: on the JavaScript thread of `env`; `deferred` came from `napi_create_promise` on
    // it and is settled exactly once, here (with `undefined` if the error cannot be converted).
    unsafe {
        match value {
            Ok(value) => sys::napi_resolve_deferred(env, deferred, value),
            Err(error) => {
                let error = napi::Error::to_napi_value(env, error).unwrap_or_else(|_| {
                    let mut undefined = ptr::null_mut();
                    sys::napi_get_undefined(env, &mut undefined);
                    undefined
                });
                sys::napi_reject_deferred(env, deferred, error)
            }
        };
    }
}
