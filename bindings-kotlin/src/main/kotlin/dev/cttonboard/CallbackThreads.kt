// Keeps the binding's runtime threads attached to the JVM between calls (see CallbackThreads).
package dev.cttonboard

import com.sun.jna.CallbackThreadInitializer
import com.sun.jna.Native

/**
 * Every `suspend` call of the binding ends with one callback into the JVM, uniffi's future
 * continuation, made by a thread of the binding's tokio runtime (`ctt-onboard`). By default JNA
 * attaches that native thread to the JVM for the callback and detaches it afterwards: per call, an
 * `AttachCurrentThread`/`DetachCurrentThread` pair and a new `java.lang.Thread` that becomes
 * garbage (in the bulk benchmark, a third of the runtime threads' CPU time and some 70 MB of peak
 * RSS). The runtime's threads are few and live as long as the process, so they stay attached, as
 * daemon threads, which never keep the JVM from exiting.
 *
 * JNA reads the initializer when the callback is first handed to native code, so it must be set
 * before the first async call: the entry points ([ClientBuilder], [Ctt], [BlockingClient]) call
 * [keepAttached]. A program that starts from the generated constructors alone (`Client(options)`)
 * works the same, with JNA's attach and detach on every call.
 */
internal object CallbackThreads {
    init {
        Native.setCallbackThreadInitializer(
            dev.cttonboard.ffi.uniffiRustFutureContinuationCallbackImpl,
            CallbackThreadInitializer(/* daemon = */ true, /* detach = */ false, "ctt-onboard"),
        )
    }

    /** Sets the initializer, the first time only (this object's initialization). */
    fun keepAttached() = Unit
}
