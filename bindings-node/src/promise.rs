//! Runs an export's future on napi's tokio runtime and settles its Promise through one
//! completion queue per environment.
//!
//! napi's own bridge (`#[napi] async fn`, `Env::spawn_future`) creates a new threadsafe function
//! for every call (a libuv async handle and an env cleanup hook, closed again once the promise
//! settles); that cost was most of the ~20 µs a no-IO await took. Here each environment (the
//! main thread, each worker) has one long-lived threadsafe function: a finished future pushes
//! its outcome onto it, and its callback, on the JavaScript thread, converts the value and
//! resolves or rejects the promise. The function is ref'd while any call is in flight and
//! unref'd when none is, so a pending call keeps the process alive and an idle client does not,
//! exactly as with one handle per call.
//!
//! This module holds the crate's only unsafe blocks: the napi C calls it is made of.

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{Env, sys};
use std::cell::RefCell;
use std::ffi::c_void;
use std::future::Future;
use std::ptr;
use std::sync::{Arc, Mutex, PoisonError};

/// What a finished call hands to the JavaScript thread: its promise and how to settle it.
struct Settle {
    deferred: sys::napi_deferred,
    outcome: Box<dyn FnOnce(sys::napi_env) -> napi::Result<sys::napi_value> + Send>,
}

/// The environment's queue, shared by every call made on its thread.
#[derive(Clone)]
struct Queue {
    env: sys::napi_env,
    tsfn: sys::napi_threadsafe_function,
    link: Arc<Link>,
}

/// How tokio threads reach the queue: the threadsafe function while the environment lives,
/// `None` from its cleanup hook on. Node frees a threadsafe function when its environment goes
/// away even while other threads still hold counts on it (Node 20 does), so a count cannot keep
/// it valid; this lock can: the hook clears it before Node closes the function, and a push
/// holds it across its call.
struct Link {
    tsfn: Mutex<Option<Tsfn>>,
}

struct Tsfn(sys::napi_threadsafe_function);

// SAFETY: a threadsafe function may be called from any thread (that is its purpose); `Link`
// guarantees it is still alive whenever it is called.
unsafe impl Send for Tsfn {}

/// Per JavaScript thread: its environments' queues and how many calls each has in flight.
struct Entry {
    queue: Queue,
    in_flight: usize,
}

thread_local! {
    static QUEUES: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// A call in flight, held by its tokio task: it pushes the outcome to the queue exactly once,
/// also when the task is dropped unfinished (the runtime shutting down), so the in-flight count
/// always comes back down.
struct Pending {
    link: Arc<Link>,
    deferred: Option<sys::napi_deferred>,
}

// SAFETY: the `napi_deferred` is only moved through the queue and used on the JavaScript thread,
// in `on_settle`.
unsafe impl Send for Pending {}
// SAFETY: as for `Pending`: the deferred inside is only dereferenced by napi on the JS thread.
unsafe impl Send for Settle {}

impl Pending {
    fn finish(
        mut self,
        outcome: Box<dyn FnOnce(sys::napi_env) -> napi::Result<sys::napi_value> + Send>,
    ) {
        self.push(outcome);
    }

    fn push(
        &mut self,
        outcome: Box<dyn FnOnce(sys::napi_env) -> napi::Result<sys::napi_value> + Send>,
    ) {
        let Some(deferred) = self.deferred.take() else {
            return;
        };
        let item = Box::into_raw(Box::new(Settle { deferred, outcome }));
        let tsfn = self
            .link
            .tsfn
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let queued = tsfn.as_ref().is_some_and(|tsfn| {
            // SAFETY: the function is alive while the link holds it, and the lock held here keeps
            // the environment's cleanup hook from closing it during the call.
            let status = unsafe {
                sys::napi_call_threadsafe_function(
                    tsfn.0,
                    item.cast(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
            status == sys::Status::napi_ok
        });
        if !queued {
            // The environment is gone: nothing is settled, as there is no JavaScript left to see
            // it, and the item was not queued, so it is ours to free.
            // SAFETY: made by `Box::into_raw` above and handed to no one.
            drop(unsafe { Box::from_raw(item) });
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.push(Box::new(|_| {
            Err(crate::error::to_napi(ctt_onboard::Error::new(
                ctt_onboard::ErrorCode::Api,
                "the call was dropped before it finished (the runtime is shutting down)",
            )))
        }));
    }
}

/// Runs `fut` on napi's tokio runtime and returns a Promise settled with its outcome: the value
/// converted with its `ToNapiValue`, or the error converted as napi converts a rejected
/// `async fn` (so `lib/errors.cjs` decodes it the same way). A panic while polling `fut` or
/// converting its value rejects with core's `api` error, as [`crate::error::guard`] does.
pub fn spawn<'env, T, F>(env: &'env Env, fut: F) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = napi::Result<T>> + Send + 'static,
{
    let raw_env = env.raw();
    let queue = queue(raw_env)?;
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    // SAFETY: called on the JavaScript thread of `raw_env` (an export's callback), with out
    // pointers to locals.
    check(unsafe { sys::napi_create_promise(raw_env, &mut deferred, &mut promise) })?;
    let pending = Pending {
        link: queue.link,
        deferred: Some(deferred),
    };
    // From here on `pending` settles the promise, whatever happens, and `on_settle` counts it out.
    started(raw_env, queue.tsfn);
    napi::bindgen_prelude::spawn(async move {
        let result = crate::error::guard(fut).await;
        pending.finish(Box::new(move |env| {
            // SAFETY: `on_settle` runs this on the JavaScript thread of `env`, inside napi's
            // handle scope for the threadsafe function's callback.
            result.and_then(|value| unsafe { T::to_napi_value(env, value) })
        }));
    });
    Ok(PromiseRaw::new(raw_env, promise))
}

fn check(status: sys::napi_status) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::new(
            napi::Status::from(status),
            "creating the call's promise failed",
        ))
    }
}

/// The queue of `env`, created on its first call.
fn queue(env: sys::napi_env) -> napi::Result<Queue> {
    if let Some(queue) = QUEUES.with_borrow(|qs| {
        qs.iter()
            .find(|e| e.queue.env == env)
            .map(|e| e.queue.clone())
    }) {
        return Ok(queue);
    }
    let mut name = ptr::null_mut();
    let mut tsfn = ptr::null_mut();
    // SAFETY: on the JavaScript thread of `env`; no JavaScript function (the callback settles
    // promises itself), no context, one thread count held by the environment until its cleanup
    // hook. It starts unref'd: nothing is in flight yet.
    unsafe {
        let label = "ctt-onboard completions";
        check(sys::napi_create_string_utf8(
            env,
            label.as_ptr().cast(),
            label.len() as isize,
            &mut name,
        ))?;
        check(sys::napi_create_threadsafe_function(
            env,
            ptr::null_mut(),
            ptr::null_mut(),
            name,
            0,
            1,
            ptr::null_mut(),
            None,
            ptr::null_mut(),
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
    let queue = Queue {
        env,
        tsfn,
        link: Arc::new(Link {
            tsfn: Mutex::new(Some(Tsfn(tsfn))),
        }),
    };
    QUEUES.with_borrow_mut(|qs| {
        qs.push(Entry {
            queue: queue.clone(),
            in_flight: 0,
        })
    });
    Ok(queue)
}

/// Counts a call in; the first one in flight refs the queue (keeps the event loop alive).
fn started(env: sys::napi_env, tsfn: sys::napi_threadsafe_function) {
    let first = QUEUES.with_borrow_mut(|qs| {
        qs.iter_mut().find(|e| e.queue.env == env).is_some_and(|e| {
            e.in_flight += 1;
            e.in_flight == 1
        })
    });
    if first {
        // SAFETY: on the JavaScript thread of `env`, with its live queue.
        unsafe { sys::napi_ref_threadsafe_function(env, tsfn) };
    }
}

/// Counts a call out; the last one in flight unrefs the queue (an idle process may exit).
fn finished(env: sys::napi_env) {
    let last = QUEUES.with_borrow_mut(|qs| {
        qs.iter_mut().find(|e| e.queue.env == env).and_then(|e| {
            e.in_flight = e.in_flight.saturating_sub(1);
            (e.in_flight == 0).then_some(e.queue.tsfn)
        })
    });
    if let Some(tsfn) = last {
        // SAFETY: on the JavaScript thread of `env`, with its live queue.
        unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
    }
}

/// The queue's callback, on the JavaScript thread: settles one call's promise. A null `env`
/// means the queue is being torn down with the item still in it; it is only freed.
unsafe extern "C" fn on_settle(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    // SAFETY: every item was made by `Box::into_raw` in `Pending::push` and is handed here once.
    let item = unsafe { Box::from_raw(data.cast::<Settle>()) };
    if env.is_null() {
        return;
    }
    finished(env);
    let Settle { deferred, outcome } = *item;
    // A panic must not unwind into napi: it rejects the promise like any other panic.
    let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| outcome(env)))
        .unwrap_or_else(|payload| {
            Err(crate::error::to_napi(ctt_onboard::Error::from_panic(
                payload,
            )))
        });
    // SAFETY: on the JavaScript thread of `env`; `deferred` came from `napi_create_promise` on
    // it and is settled exactly once, here.
    unsafe {
        match value {
            Ok(value) => {
                sys::napi_resolve_deferred(env, deferred, value);
            }
            Err(error) => match napi::Error::to_napi_value(env, error) {
                Ok(error) => {
                    sys::napi_reject_deferred(env, deferred, error);
                }
                Err(_) => {
                    let mut undefined = ptr::null_mut();
                    sys::napi_get_undefined(env, &mut undefined);
                    sys::napi_reject_deferred(env, deferred, undefined);
                }
            },
        }
    }
}

/// The environment is going away (process exit, a worker ending): forget its queue, cut the link
/// (calls still running on tokio then find no queue and drop their outcome) and give up its
/// thread count. Cleanup hooks run in reverse order of registration, so this runs before the one
/// Node registered for the threadsafe function when it was created.
unsafe extern "C" fn on_env_cleanup(arg: *mut c_void) {
    let env: sys::napi_env = arg.cast();
    let entry = QUEUES.with_borrow_mut(|qs| {
        qs.iter()
            .position(|e| e.queue.env == env)
            .map(|i| qs.swap_remove(i))
    });
    if let Some(entry) = entry {
        // Cut the link: once this lock is released no push is calling, and none will.
        entry
            .queue
            .link
            .tsfn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // SAFETY: the environment's own count, taken once when the queue was made; no other
        // thread can call the function any more, as the link no longer holds it.
        unsafe {
            sys::napi_release_threadsafe_function(
                entry.queue.tsfn,
                sys::ThreadsafeFunctionReleaseMode::abort,
            )
        };
    }
}
