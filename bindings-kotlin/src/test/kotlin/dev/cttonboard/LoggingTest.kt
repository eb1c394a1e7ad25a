package dev.cttonboard

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import java.util.concurrent.ConcurrentLinkedQueue
import kotlin.test.assertTrue

/** The app's logger receives level, target and message; secrets never reach it. */
class LoggingTest {
    @Test
    fun `events reach the installed logger without secrets`(): Unit = runBlocking {
        val events = ConcurrentLinkedQueue<Triple<LogLevel, String, String>>()
        installLogger(LogLevel.TRACE) { level, target, message -> events += Triple(level, target, message) }
        val sim = Simulator.start()
        try {
            val c = sim.credentials()
            val client = Fixtures.client(sim)
            client.resellerId()
            client.close()
            val fetch = events.firstOrNull { it.third.contains("fetching a token") }
            assertTrue(fetch != null, "a token fetch is logged: $events")
            assertTrue(fetch.first == LogLevel.DEBUG)
            assertTrue(fetch.second.startsWith("ctt_onboard"), fetch.second)
            for ((_, _, message) in events) {
                for (secret in listOf(c.clientSecret, c.password, c.enterprisePassword)) {
                    assertTrue(!message.contains(secret), "secret in log: $message")
                }
            }
            val tokens = events.map { it.third }.filter { it.contains("eyJ") }
            assertTrue(tokens.isEmpty(), "bearer tokens in log: $tokens")
            // Above the threshold only: with WARN, debug events stop arriving.
            installLogger(LogLevel.WARN) { level, target, message -> events += Triple(level, target, message) }
            events.clear()
            val again = Fixtures.client(sim)
            again.resellerId()
            again.close()
            assertTrue(events.none { it.first < LogLevel.WARN }, "$events")
        } finally {
            uninstallLogger()
            sim.close()
        }
    }
}
