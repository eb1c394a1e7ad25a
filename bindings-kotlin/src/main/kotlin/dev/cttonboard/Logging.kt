// Installing a logger with a lambda.
@file:JvmName("Logging")

package dev.cttonboard

/** A [Logger] from a function, for `installLogger(LogLevel.DEBUG) { level, target, message -> ... }`. */
fun interface LogSink {
    /** One event. */
    fun log(level: LogLevel, target: String, message: String)
}

/** Installs [sink] for every library event at [level] or above (replacing any earlier one). */
fun installLogger(level: LogLevel, sink: LogSink) {
    installLogger(
        object : Logger {
            override fun log(level: LogLevel, target: String, message: String) = sink.log(level, target, message)
        },
        level,
    )
}
