package dev.cttonboard

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import java.time.Duration
import kotlin.reflect.KClass
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** Every error code as its own exception subclass, with status and request id. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ErrorsTest {
    private lateinit var sim: Simulator

    @BeforeAll
    fun start() {
        sim = Simulator.start()
    }

    @AfterAll
    fun stop() = sim.close()

    private val classes: Map<String, KClass<out CttException>> = mapOf(
        "invalid_input" to CttException.InvalidInput::class,
        "authentication" to CttException.Authentication::class,
        "forbidden" to CttException.Forbidden::class,
        "not_found" to CttException.NotFound::class,
        "conflict" to CttException.Conflict::class,
        "rate_limited" to CttException.RateLimited::class,
        "server" to CttException.Server::class,
        "api" to CttException.Api::class,
        "tenant_roles_missing" to CttException.TenantRolesMissing::class,
        "timeout" to CttException.Timeout::class,
        "network" to CttException.Network::class,
        "decode" to CttException.Decode::class,
        "callback_invalid" to CttException.CallbackInvalid::class,
        "flow_state" to CttException.FlowState::class,
        "outcome_unknown" to CttException.OutcomeUnknown::class,
    )

    /** The fields every subclass carries, read the way a portal would. */
    private val CttException.fields: Triple<String, Int?, String?>
        get() = when (this) {
            is CttException.InvalidInput -> Triple(code, status, requestId)
            is CttException.Authentication -> Triple(code, status, requestId)
            is CttException.Forbidden -> Triple(code, status, requestId)
            is CttException.NotFound -> Triple(code, status, requestId)
            is CttException.Conflict -> Triple(code, status, requestId)
            is CttException.RateLimited -> Triple(code, status, requestId)
            is CttException.Server -> Triple(code, status, requestId)
            is CttException.Api -> Triple(code, status, requestId)
            is CttException.TenantRolesMissing -> Triple(code, status, requestId)
            is CttException.Timeout -> Triple(code, status, requestId)
            is CttException.Network -> Triple(code, status, requestId)
            is CttException.Decode -> Triple(code, status, requestId)
            is CttException.CallbackInvalid -> Triple(code, status, requestId)
            is CttException.FlowState -> Triple(code, status, requestId)
            is CttException.OutcomeUnknown -> Triple(code, status, requestId)
        }

    @Test
    fun `every core code arrives as its own subclass with every field`() {
        assertEquals(classes.keys.toList(), errorCodes())
        for ((code, cls) in classes) {
            val e = assertFailsWith(cls) { errorForCode(code) }
            assertEquals(Triple(code, 599, "req-$code"), e.fields)
            assertTrue(e.message!!.contains("sample $code"), e.message)
        }
        val rl = assertFailsWith<CttException.RateLimited> { errorForCode("rate_limited") }
        assertEquals(1500L, rl.retryAfterMs)
        assertFailsWith<CttException.InvalidInput> { errorForCode("no_such_code") }
    }

    @Test
    fun `invalid input names the field before anything is sent`(): Unit = runBlocking {
        val client = Fixtures.client(sim)
        val before = sim.requests().size
        val e = assertFailsWith<CttException.InvalidInput> {
            client.createEnterprise(NewEnterprise(enterpriseName = "x", services = listOf(Service.Trunk)))
        }
        assertTrue(e.detail.contains("sbcGateways"), e.detail)
        assertNull(e.status)
        assertEquals(before, sim.requests().size)
        val url = assertFailsWith<CttException.InvalidInput> {
            Client.builder().baseUrl("http://api.example.com").build()
        }
        assertTrue(url.detail.contains("base_url"), url.detail)
        assertFailsWith<CttException.InvalidInput> {
            Client.builder().retryPolicy(RetryOptions(maxAttempts = 0u)).build()
        }
        assertFailsWith<CttException.InvalidInput> { client.sbcGateways(-3) }
        client.close()
    }

    @Test
    fun `authentication, conflict and not found carry status and request id`(): Unit = runBlocking {
        val c = sim.credentials()
        val wrong = Client.builder().baseUrl(sim.baseUrl()).reseller(c.clientId, c.clientSecret, c.username, "wrong-password").build()
        val auth = assertFailsWith<CttException.Authentication> { wrong.resellerId() }
        assertEquals("authentication", auth.code)
        assertNotNull(auth.status)
        assertNotNull(auth.requestId)
        wrong.close()

        val client = Fixtures.client(sim)
        val body = Fixtures.smsEnterprise()
        client.createEnterprise(body)
        val conflict = assertFailsWith<CttException.Conflict> { client.createEnterprise(body) }
        assertEquals(409, conflict.status)
        assertNotNull(conflict.requestId)
        assertTrue(conflict.detail.contains(body.enterpriseName), conflict.detail)
        assertEquals("conflict: ${conflict.detail} (HTTP 409, request id ${conflict.requestId})", conflict.toString())

        val missing = assertFailsWith<CttException.NotFound> { client.sbcGateways(999) }
        assertEquals(404, missing.status)
        assertNotNull(missing.requestId)
        client.close()
    }

    @Test
    fun `tenant roles missing from the management consent`(): Unit = runBlocking {
        val client = Fixtures.client(sim)
        val name = Fixtures.uniqueName("Northwind")
        client.createEnterprise(Fixtures.smsEnterprise(name))
        sim.approve(client.actionItemUrl(ActionType.Registration, name, Fixtures.REDIRECT), "northwind")
        val url = client.actionItemUrl(ActionType.GetServiceProviderManagementConsent, name, Fixtures.REDIRECT)
        val payload = CallbackPayload.parse(sim.approve(url, "northwind").body)
        val e = assertFailsWith<CttException.TenantRolesMissing> {
            client.updateManagementConsent(payload.authenticationResult(), sim.resellerId(), payload.tenantId()!!)
        }
        assertEquals("tenant_roles_missing", e.code)
        assertEquals(400, e.status)
        assertNotNull(e.requestId)
        client.close()
    }

    @Test
    fun `rate limited, server, decode, timeout and network from the wire`(): Unit = runBlocking {
        val faulty = Simulator.start()
        val noRetries = Fixtures.client(faulty) { noRetries() }
        noRetries.resellerId()

        faulty.setFaults(SimFaults(rate = 1.0, kinds = listOf("429"), paths = listOf("/pbx"), retryAfterSecs = 120u))
        val limited = Fixtures.client(faulty) { retryPolicy(RetryOptions(maxRetryAfterMs = 1000u)) }
        val rl = assertFailsWith<CttException.RateLimited> { limited.pbxTypes(faulty.resellerId()) }
        assertEquals(429, rl.status)
        assertEquals(120_000L, rl.retryAfterMs)
        assertNotNull(rl.requestId)

        faulty.setFaults(SimFaults(rate = 1.0, kinds = listOf("500"), paths = listOf("/pbx")))
        val server = assertFailsWith<CttException.Server> { noRetries.pbxTypes(faulty.resellerId()) }
        assertEquals(500, server.status)
        assertNotNull(server.requestId)

        faulty.setFaults(SimFaults(rate = 1.0, kinds = listOf("latency"), paths = listOf("/pbx"), latencyMs = 5_000u))
        val slow = Fixtures.client(faulty) { noRetries().timeout(Duration.ofMillis(300)) }
        assertIs<CttException.Timeout>(assertFailsWith<CttException> { slow.pbxTypes(faulty.resellerId()) })

        faulty.setFaults(SimFaults(rate = 0.0))
        val tiny = Fixtures.client(faulty) { maxResponseBytes(16) }
        assertFailsWith<CttException.Decode> { tiny.sbcGateways(faulty.resellerId()) }

        val baseUrl = faulty.baseUrl()
        listOf(noRetries, limited, slow, tiny).forEach { it.close() }
        faulty.close()
        val gone = Client.builder().baseUrl(baseUrl).reseller("a", "b", "c", "d").noRetries().build()
        val net = assertFailsWith<CttException.Network> { gone.resellerId() }
        assertNull(net.status)
        gone.close()
    }

    @Test
    fun `a stopped simulator says so`() {
        val s = Simulator.start()
        s.stop()
        assertFailsWith<CttException.FlowState> { s.requests() }
        s.close()
    }
}
