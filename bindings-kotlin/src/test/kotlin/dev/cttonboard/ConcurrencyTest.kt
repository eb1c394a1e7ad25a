package dev.cttonboard

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import java.net.InetAddress
import java.net.ServerSocket
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/** 100 concurrent calls in coroutines, and cancellation that leaves client and flow usable. */
class ConcurrencyTest {
    private lateinit var sim: Simulator

    @BeforeEach
    fun start() {
        sim = Simulator.start()
    }

    @AfterEach
    fun stop() = sim.close()

    @Test
    fun `100 concurrent calls share one token`(): Unit = runBlocking {
        val client = Fixtures.client(sim)
        val rid = sim.resellerId()
        val results = (1..100).map { i ->
            async(Dispatchers.Default) {
                if (i % 2 == 0) client.sbcGateways(rid).size else client.pbxTypes(rid).size
            }
        }.awaitAll()
        assertEquals(100, results.size)
        assertEquals(setOf(3), results.toSet())
        assertEquals(1L, sim.tokenRequests("reseller"), "one token fetch for 100 concurrent calls")
        assertEquals(100, sim.requests().count { it.path.startsWith("/reseller/getAvailable") || it.path.startsWith("/pbx") })
        client.close()
    }

    @Test
    fun `cancelling a call in flight leaves the client usable`(): Unit = runBlocking {
        // A loopback server that takes the request and does not answer, so the call is certainly
        // in flight when it is cancelled; then it answers the next call.
        ServerSocket(0, 50, InetAddress.getLoopbackAddress()).use { server ->
            val client = Client.builder().baseUrl("http://127.0.0.1:${server.localPort}")
                .resellerToken("test-token").resellerId(54).noRetries().build()
            val call = launch(Dispatchers.Default) { client.sbcGateways(54) }
            val hung = withContext(Dispatchers.IO) { server.accept() }
            val requestLine = withContext(Dispatchers.IO) { hung.getInputStream().bufferedReader().readLine() }
            assertTrue(requestLine.startsWith("GET /reseller/getAvailableSBCGatewayRegionsByResellerId/54"), requestLine)
            call.cancelAndJoin()
            assertTrue(call.isCancelled)
            hung.close()

            val next = async(Dispatchers.Default) { client.sbcGateways(54) }
            withContext(Dispatchers.IO) {
                server.accept().use { socket ->
                    val reader = socket.getInputStream().bufferedReader()
                    while (reader.readLine().orEmpty().isNotEmpty()) Unit
                    val body = """[{"sbcGatewayId":5678,"sbcGatewayRegion":"US-East"}]"""
                    socket.getOutputStream().write(
                        ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n" +
                            "Connection: close\r\n\r\n$body").toByteArray(),
                    )
                    socket.getOutputStream().flush()
                }
            }
            assertEquals(listOf(SbcGateway(5678, "US-East")), next.await())
            client.close()
        }
    }

    @Test
    fun `cancelling advance keeps every finished step and the flow resumes`(): Unit = runBlocking {
        val key = "cancel-callback-key-0123456789"
        val client = Fixtures.client(sim) { callbackKey(key) }
        val name = Fixtures.uniqueName("Cancelled")
        val flow = Onboarding(OnboardingPlan(Fixtures.smsEnterprise(name), Fixtures.REDIRECT))
        // The registration URL request hangs; everything before it goes through.
        sim.setFaults(SimFaults(rate = 1.0, kinds = listOf("latency"), paths = listOf("/enterprise/getActionItemUrl"), latencyMs = 30_000u))
        // The library logs each answered call before the flow stores its result, in the same poll
        // of the future; so once the create's answer is logged, its result is in the flow before
        // the cancellation can take effect.
        val created = CompletableDeferred<Unit>()
        installLogger(LogLevel.DEBUG) { _, _, message ->
            if (message.contains("endpoint=create_enterprise") && message.contains("status=200")) created.complete(Unit)
        }
        val advancing = launch(Dispatchers.Default) { flow.advance(client) }
        try {
            withTimeout(60_000) { created.await() } // a guard against a hang, not a measurement
        } finally {
            uninstallLogger()
        }
        // While the advance is in flight (core's FlowHandle policy, the same in every language):
        // reads answer at once with the flow as of its last finished step; a callback is refused.
        assertTrue(flow.isAdvancing())
        assertEquals(16, flow.status().size)
        assertTrue(Onboarding.fromJson(flow.toJson()).id() == flow.id())
        val busy = assertFailsWith<CttException.FlowState> { flow.handleCallback(client, Fixtures.REDIRECT, "{}") }
        assertTrue(busy.detail.contains("in progress"), busy.detail)
        advancing.cancelAndJoin()
        assertTrue(advancing.isCancelled)
        assertTrue(!flow.isAdvancing(), "cancelling the coroutine ended the advance")

        val enterpriseId = assertNotNull(flow.enterpriseId(), "the create finished before the cancel and is kept")
        assertEquals(StepState.DONE, flow.status().single { it.step == "create_enterprise" }.state)
        val resumed = Onboarding.fromJson(flow.toJson())

        sim.setFaults(SimFaults(rate = 0.0))
        val progress = assertIs<Progress.AwaitingAdmin>(resumed.advance(client))
        assertEquals(ActionType.Registration, progress.action)
        assertEquals(enterpriseId, resumed.enterpriseId())
        assertEquals(1, sim.enterprises().count { it.name == name }, "the enterprise was created once")
        assertEquals(3, client.pbxTypes(sim.resellerId()).size, "the client is still usable")
        client.close()
    }

    @Test
    fun `cancelAdvance stops the advance in flight with FlowState and keeps the flow usable`(): Unit = runBlocking {
        val client = Fixtures.client(sim) { callbackKey("cancel-advance-key-0123456789") }
        val flow = Onboarding(OnboardingPlan(Fixtures.smsEnterprise(), Fixtures.REDIRECT))
        assertTrue(!flow.cancelAdvance(), "nothing to cancel")
        sim.setFaults(SimFaults(rate = 1.0, kinds = listOf("latency"), paths = listOf("/enterprise/getActionItemUrl"), latencyMs = 30_000u))
        val advancing = async(Dispatchers.Default) { runCatching { flow.advance(client) } }
        withTimeout(60_000) { while (flow.enterpriseId() == null) delay(10) }
        assertTrue(flow.cancelAdvance())
        val cancelled = assertIs<CttException.FlowState>(advancing.await().exceptionOrNull())
        assertTrue(cancelled.detail.contains("cancelled"), cancelled.detail)
        assertEquals(StepState.DONE, flow.status().single { it.step == "create_enterprise" }.state)
        sim.setFaults(SimFaults(rate = 0.0))
        assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        client.close()
    }

    @Test
    fun `an advance is marked advancing as its call starts, so an immediate cancelAdvance is never lost`(): Unit = runBlocking {
        val client = Fixtures.client(sim) { callbackKey("cancel-at-once-key-0123456789") }
        val flow = Onboarding(OnboardingPlan(Fixtures.smsEnterprise(), Fixtures.REDIRECT))
        // UNDISPATCHED: the coroutine runs on this thread until advance first suspends, and no further.
        val advancing = async(start = CoroutineStart.UNDISPATCHED) { runCatching { flow.advance(client) } }
        assertTrue(flow.isAdvancing(), "marked before the call's task ran")
        assertTrue(flow.cancelAdvance())
        val cancelled = assertIs<CttException.FlowState>(advancing.await().exceptionOrNull())
        assertTrue(cancelled.detail.contains("cancelled"), cancelled.detail)
        assertTrue(!flow.isAdvancing())
        assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        client.close()
    }
}
