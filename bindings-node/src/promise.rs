//! Runs an export's future on napi's tokio runtime and settles its Promise through one
//! long-lived threadsafe function per environment (the main thread, each worker).
//!
//! napi's own bridge (`#[napi] async fn`, `Env::spawn_future`) creates a threadsafe function per
//! call (a libuv handle and an env cleanup hook): that was most of the ~20 µs a no-IO await took.
//! Here a finished future pushes its outcome onto its environment's queue, whose callback, on the
//! JavaScript thread, converts the value and settles the promise. The queue is ref'd while any
//! call is in flight and unref'd when none is: a pending call keeps the process alive, an idle
//! client does not.
//!
//! Node frees a threadsafe function when its environment goes away even while other threads hold
//! counts on it, so a count cannot keep it valid; [`Link`] can: the environment's cleanup hook
//! empties it before Node closes the function, and a push holds its lock across the call.
//! This module holds the crate's only unsafe blocks: the napi C calls it is made of.

use crate::error::to_napi;
use ctt_onboard::{Error, ErrorCode};
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{Env, sys};
use std::cell::RefCell;
use std::ffi::c_void;
use std::future::Future;
use std::ptr;
use std::sync::{Arc, Mutex, PoisonError};

type Outcome = Box<dyn FnOnce(sys::napi_env) -> napi::Result<sys::napi_value> + Send>;

/// A call's promise, and (once it finished) how to settle it.
struct Deferred(sys::napi_deferred);
// SAFETY: the `napi_deferred` is only moved through the queue and used on the JavaScript thread.
unsafe impl Send for Deferred {}

/// The environment's threadsafe function while it lives, `None` from its cleanup hook on.
struct Link(Mutex<Option<Tsfn>>);
struct Tsfn(sys::napi_threadsafe_function);
// SAFETY: a threadsafe function may be called from any thread (that is its purpose); `Link`
// guarantees it is still alive whenever it is called.
unsafe impl Send for Tsfn {}

/// An environment's queue (kept by its JavaScript thread) and how many calls it has in flight.
struct Queue {
    env: sys::napi_env,
    tsfn: sys::napi_threadsafe_function,
    link: Arc<Link>,
    in_flight: usize,
}

thread_local! {
    static QUEUES: RefCell<Vec<Queue>> = const { RefCell::new(Vec::new()) };
}

/// A call in flight, held by its tokio task: it pushes an outcome exactly once, also when the
/// task is dropped unfinished (the runtime shutting down), so the in-flight count comes back down.
struct Pending(Arc<Link>, Option<Deferred>);

impl Pending {
    fn push(&mut self, outcome: Outcome) {
        let Some(deferred) = self.1.take() else {
            return;
        };
        let item = Box::into_raw(Box::new((deferred, outcome)));
        let tsfn = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: the function is alive while the link holds it, and the lock held here keeps
        // the environment's cleanup hook from closing it during the call.
        let queued = tsfn.as_ref().is_some_and(|tsfn| unsafe {
            let mode = sys::ThreadsafeFunctionCallMode::nonblocking;
            sys::napi_call_threadsafe_function(tsfn.0, item.cast(), mode) == sys::Status::napi_ok
        });
        if !queued {
            // The environment is gone: there is no JavaScript left to see the outcome.
            // SAFETY: made by `Box::into_raw` above and handed to no one.
            drop(unsafe { Box::from_raw(item) });
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
/// converted with its `ToNapiValue`, or the error as napi converts a rejected `async fn` (so
/// `lib/errors.cjs` decodes it the same way). A panic rejects with core's `api` error.
pub fn spawn<'env, T, F>(env: &'env Env, fut: F) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = napi::Result<T>> + Send + 'static,
{
    let env = env.raw();
    let link = started(env)?;
    let (mut deferred, mut promise) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: on the JavaScript thread of `env` (an export's callback), with out pointers to locals.
    if let Err(e) = check(unsafe { sys::napi_create_promise(env, &mut deferred, &mut promise) }) {
        finished(env);
        return Err(e);
    }
    let mut pending = Pending(link, Some(Deferred(deferred)));
    napi::bindgen_prelude::spawn(async move {
        let result = crate::error::guard(fut).await;
        // SAFETY: `on_settle` runs this on the JavaScript thread of `env`, inside napi's handle
        // scope for the threadsafe function's callback.
        pending.push(Box::new(move |env| {
            result.and_then(|value| unsafe { T::to_napi_value(env, value) })
        }));
    });
    Ok(PromiseRaw::new(env, promise))
}

fn check(status: sys::napi_status) -> napi::Result<()> {
    match status {
        sys::Status::napi_ok => Ok(()),
        s => Err(napi::Error::new(
            s.into(),
            "creating the call's promise failed",
        )),
    }
}

/// The queue of `env`, made on its first call: no JavaScript function (the callback settles
/// promises itself), unref'd, one thread count held until the environment's cleanup hook.
fn queue(env: sys::napi_env) -> napi::Result<Queue> {
    let (mut name, mut tsfn, label) = (ptr::null_mut(), ptr::null_mut(), "ctt-onboard completions");
    let null = ptr::null_mut::<c_void>();
    // SAFETY: on the JavaScript thread of `env`, with out pointers to locals.
    unsafe {
        let len = label.len() as isize;
        check(sys::napi_create_string_utf8(
            env,
            label.as_ptr().cast(),
            len,
            &mut name,
        ))?;
        check(sys::napi_create_threadsafe_function(
            env,
            ptr::null_mut(),
            ptr::null_mut(),
            name,
            0,
            1,
            null,
            None,
            null,
            Some(on_settle),
            &mut tsfn,
        ))?;
        check(sys::napi_unref_threadsafe_function(env, tsfn))?;
        check(sys::napi_add_env_cleanup_hook(
            env,
            Some(on_env_cleanup),
            env.cast(),
        ))?;
    }
    let link = Arc::new(Link(Mutex::new(Some(Tsfn(tsfn)))));
    Ok(Queue {
        env,
        tsfn,
        link,
        in_flight: 0,
    })
}

/// Counts a call in on `env`'s queue; the first call in flight refs it (keeps the event loop alive).
fn started(env: sys::napi_env) -> napi::Result<Arc<Link>> {
    if !QUEUES.with_borrow(|qs| qs.iter().any(|q| q.env == env)) {
        let made = queue(env)?;
        QUEUES.with_borrow_mut(|qs| qs.push(made));
    }
    QUEUES.with_borrow_mut(|qs| {
        let q = qs
            .iter_mut()
            .find(|q| q.env == env)
            .expect("the queue was just made");
        q.in_flight += 1;
        if q.in_flight == 1 {
            // SAFETY: on the JavaScript thread of `env`, with its live queue.
            unsafe { sys::napi_ref_threadsafe_function(env, q.tsfn) };
        }
        Ok(q.link.clone())
    })
}

/// Counts a call out; the last one in flight unrefs the queue (an idle process may exit).
fn finished(env: sys::napi_env) {
    QUEUES.with_borrow_mut(|qs| {
        if let Some(q) = qs.iter_mut().find(|q| q.env == env) {
            q.in_flight = q.in_flight.saturating_sub(1);
            if q.in_flight == 0 {
                // SAFETY: on the JavaScript thread of `env`, with its live queue.
                unsafe { sys::napi_unref_threadsafe_function(env, q.tsfn) };
            }
        }
    });
}

/// The queue's callback, on the JavaScript thread: settles one call's promise. A null `env`
/// means the queue is being torn down with the item still in it; it is only freed.
unsafe extern "C" fn on_settle(
    env: sys::napi_env,
    _: sys::napi_value,
    _: *mut c_void,
    data: *mut c_void,
) {
    // SAFETY: every item was made by `Box::into_raw` in `Pending::push` and is handed here once.
    let (Deferred(deferred), outcome) =
        *unsafe { Box::from_raw(data.cast::<(Deferred, Outcome)>()) };
    if env.is_null() {
        return;
    }
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

/// The environment is going away (process exit, a worker ending): forget its queue, empty the
/// link (calls still running on tokio then drop their outcome) and give up its thread count.
/// Cleanup hooks run in reverse order of registration, so this runs before the one Node
/// registered for the threadsafe function when it was created.
unsafe extern "C" fn on_env_cleanup(arg: *mut c_void) {
    let env: sys::napi_env = arg.cast();
    let gone = QUEUES.with_borrow_mut(|qs| {
        let i = qs.iter().position(|q| q.env == env)?;
        Some(qs.swap_remove(i))
    });
    if let Some(q) = gone {
        // Once this lock is released no push is calling, and none will.
        q.link
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // SAFETY: the environment's own count, taken once when the queue was made; no other
        // thread can call the function any more, as the link no longer holds it.
        unsafe {
            sys::napi_release_threadsafe_function(q.tsfn, sys::ThreadsafeFunctionReleaseMode::abort)
        };
    }
}
