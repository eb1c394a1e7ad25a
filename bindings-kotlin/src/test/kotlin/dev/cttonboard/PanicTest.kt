package dev.cttonboard

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** A panic in Rust never crosses into the JVM: it arrives as `CttException.Api`, not a crash. */
class PanicTest {
    @Test
    fun `a panic in a synchronous export is CttException Api`() {
        // Not uniffi's InternalException: the export macro maps it through core's catch_panic.
        val e = assertFailsWith<CttException.Api> { forcePanicForTests() }
        assertEquals("api", e.code)
        assertTrue(e.detail.startsWith("internal error in ctt-onboard"), e.detail)
        assertTrue(e.detail.contains("forced panic"), e.detail)
        // The library keeps working after it.
        assertEquals(errorCodes().size, 15)
        assertFailsWith<CttException.Api> { forcePanicForTests() }
    }

    @Test
    fun `a panic in an async method is CttException Api and the client stays usable`(): Unit = runBlocking {
        Simulator.start().use { sim ->
            val client = Fixtures.client(sim)
            val e = assertFailsWith<CttException.Api> { client.forcePanicForTests() }
            assertTrue(e.detail.startsWith("internal error in ctt-onboard"), e.detail)
            // The same client, its pool and token cache, still work.
            assertEquals(sim.resellerId(), client.resellerId())
            assertEquals(3, client.pbxTypes(sim.resellerId()).size)
            assertFailsWith<CttException.Api> { client.forcePanicForTests() }
            assertEquals(sim.resellerId(), client.authenticatedUser().resellerId)
            client.close()
        }
    }
}
