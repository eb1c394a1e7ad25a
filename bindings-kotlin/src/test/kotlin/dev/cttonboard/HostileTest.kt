package dev.cttonboard

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertTrue

/**
 * Hostile and bad input, as a table (core/tests/hostile.rs through the binding): the caller's
 * mistakes are `InvalidInput` naming the field and nothing is sent; the server's oddities are
 * `Decode` naming the problem; neither changes a flow's stored JSON.
 */
class HostileTest {
    private val key = "portal-callback-key-0123456789"
    private lateinit var sim: Simulator
    private lateinit var client: Client

    @BeforeEach
    fun start() {
        sim = Simulator.start()
        client = Fixtures.client(sim) { callbackKey(key) }
    }

    @AfterEach
    fun stop() {
        client.close()
        sim.clearCanned()
        sim.close()
    }

    private fun trunk(name: String) = NewEnterprise(enterpriseName = name, services = listOf(Service.Trunk), sbcGateways = listOf(5678))

    private fun nothingSent() = assertEquals(emptyList(), sim.requests(), "nothing was sent")

    @Test
    fun `the caller's bad enterprise fields are refused by name and nothing is sent`(): Unit = runBlocking {
        val cases: List<Triple<String, NewEnterprise, String>> = listOf(
            Triple("blank name", trunk("   "), "enterpriseName"),
            Triple("10,000-character name", trunk("n".repeat(10_000)), "enterpriseName"),
            Triple("control character", trunk("Acme\u0000Ltd"), "enterpriseName"),
            Triple("newline and escape", trunk("Acme\n\u001b[31mLtd"), "enterpriseName"),
            Triple("no services", NewEnterprise(enterpriseName = "A", services = emptyList()), "services"),
            Triple("malformed service", NewEnterprise(enterpriseName = "A", services = listOf(Service.Other("PBX; DROP"))), "services"),
            Triple("empty service", NewEnterprise(enterpriseName = "A", services = listOf(Service.Other(""))), "services"),
            Triple("oversized service", NewEnterprise(enterpriseName = "A", services = listOf(Service.Other("S".repeat(500)))), "services"),
            Triple("gateways missing", NewEnterprise(enterpriseName = "A", services = listOf(Service.Pbx)), "sbcGateways"),
            Triple("PBX types missing", NewEnterprise(enterpriseName = "A", services = listOf(Service.CallApp)), "pbxId"),
            Triple("negative gateway", NewEnterprise(enterpriseName = "A", services = listOf(Service.Trunk), sbcGateways = listOf(-1)), "sbcGateways"),
            Triple("zero PBX type", NewEnterprise(enterpriseName = "A", services = listOf(Service.CallApp), pbxId = listOf(0)), "pbxId"),
            Triple("negative reseller", NewEnterprise(enterpriseName = "A", services = listOf(Service.Sms), resellerId = -4), "resellerId"),
        )
        for ((what, enterprise, field) in cases) {
            val e = assertFailsWith<CttException.InvalidInput>(what) { client.createEnterprise(enterprise) }
            assertTrue(e.detail.contains(field), "$what: ${e.detail}")
            assertTrue(e.detail.length < 400, "$what: the message does not echo oversized input")
            // The same check without a client, as a portal's form would run it.
            assertFailsWith<CttException.InvalidInput>(what) { enterprise.validate() }
        }
        nothingSent()
    }

    @Test
    fun `bad URLs are refused by name and nothing is sent`(): Unit = runBlocking {
        val redirects = listOf(
            "public http" to "http://portal.example/cb",
            "private-range http" to "http://192.168.1.10/cb",
            "javascript" to "javascript:alert(1)",
            "relative" to "/cb",
            "oversized" to "https://portal.example/" + "a".repeat(5000),
        )
        for ((what, url) in redirects) {
            val e = assertFailsWith<CttException.InvalidInput>(what) { client.actionItemUrl(ActionType.Registration, "A", url) }
            assertTrue(e.detail.contains("redirectUrl"), "$what: ${e.detail}")
            assertTrue(e.detail.length < 400, "$what: ${e.detail.length} characters")
            // A plan with that redirect URL is refused before a flow exists.
            val plan = OnboardingPlan(NewEnterprise(enterpriseName = "A", services = listOf(Service.Sms)), url)
            assertFailsWith<CttException.InvalidInput>(what) { Onboarding(plan) }
        }
        val bases = listOf(
            "public http" to "http://api.example.com",
            "ftp" to "ftp://api.example.com",
            "not a URL" to "api example",
            "oversized" to "https://api.example.com/" + "b".repeat(5000),
        )
        for ((what, url) in bases) {
            val e = assertFailsWith<CttException.InvalidInput>(what) { Client.builder().baseUrl(url).build() }
            assertTrue(e.detail.contains("base_url"), "$what: ${e.detail}")
            assertTrue(e.detail.length < 400, "$what: ${e.detail.length} characters")
        }
        nothingSent()
    }

    @Test
    fun `an unknown but well-formed service passes through and the API names it`(): Unit = runBlocking {
        val e = assertFailsWith<CttException.InvalidInput> {
            client.createEnterprise(NewEnterprise(enterpriseName = Fixtures.uniqueName(), services = listOf(Service.Other("FAX"))))
        }
        assertEquals(400, e.status)
        assertTrue(e.detail.contains("FAX"), e.detail)
        assertTrue(sim.requests().any { it.path == "/reseller/newEnterprise" && it.status.toInt() == 400 }, "it was sent")
    }

    private fun canned(prefix: String, contentType: String, body: String) =
        SimCanned(pathPrefix = prefix, status = 200u, contentType = contentType, body = body)

    @Test
    fun `odd answers are Decode errors naming the problem`(): Unit = runBlocking {
        val rid = client.resellerId()
        val gateways = "/reseller/getAvailableSBCGatewayRegionsByResellerId"
        val cases = listOf(
            Triple("2 MiB body", canned(gateways, "application/json", "[" + "1,".repeat(1 shl 20) + "1]"), "cap"),
            Triple("deeply nested", canned(gateways, "application/json", "[".repeat(100_000)), "not the documented JSON"),
            Triple("HTML", canned(gateways, "text/html", "<html><body>Login</body></html>"), "not the documented JSON"),
            Triple("wrong shape", canned(gateways, "application/json", """{"sbcGatewayId": "x"}"""), "sbc_gateways"),
            Triple("empty", canned(gateways, "application/json", ""), "not the documented JSON"),
        )
        for ((what, response, expect) in cases) {
            sim.setCanned(response)
            val e = assertFailsWith<CttException.Decode>(what) { client.sbcGateways(rid) }
            assertTrue(e.detail.contains(expect), "$what: ${e.detail}")
            assertTrue(e.detail.length < 2048, "$what: message cut short")
        }
        sim.clearCanned()
        assertEquals(3, client.pbxTypes(rid).size, "the client is fine afterwards")

        sim.setCanned(canned("/reseller/newEnterprise", "text/plain", "<html>created</html>"))
        val create = assertFailsWith<CttException.Decode> { client.createEnterprise(Fixtures.smsEnterprise()) }
        assertTrue(create.detail.contains("enterprise id"), create.detail)
        sim.setCanned(canned("/enterprise/getActionItemUrl", "text/html", "<html>no</html>"))
        val url = assertFailsWith<CttException.Decode> { client.actionItemUrl(ActionType.Registration, "A", Fixtures.REDIRECT) }
        assertTrue(url.detail.contains("not a URL"), url.detail)
        sim.setCanned(canned("/reseller/v3", "application/json", "{}"))
        assertFailsWith<CttException.Decode> { client.findEnterprise(rid, "A") }
        sim.setCanned(canned("/oauth/token", "application/json", """{"token":"x"}"""))
        val fresh = Fixtures.client(sim)
        val token = assertFailsWith<CttException.Decode> { fresh.sbcGateways(rid) }
        assertTrue(token.detail.contains("token response"), token.detail)
        fresh.close()
        // A negative status cannot be written any more: SimCanned.status is ctt-sim's own UShort.
    }

    @Test
    fun `a failed advance leaves the flow's JSON byte-identical`(): Unit = runBlocking {
        val flow = Onboarding(
            OnboardingPlan(
                enterprise = NewEnterprise(enterpriseName = Fixtures.uniqueName("Steady"), services = listOf(Service.Trunk)),
                redirectUrl = Fixtures.REDIRECT,
                gatewayRegions = listOf("US-East"),
            ),
        )
        val before = flow.toJson()
        for ((what, body) in listOf("nested" to "[".repeat(10_000), "2 MiB" to "[" + "1,".repeat(1 shl 20) + "1]", "HTML" to "<html/>")) {
            sim.setCanned(canned("/reseller/getAvailableSBCGatewayRegionsByResellerId", "application/json", body))
            assertFailsWith<CttException.Decode>(what) { flow.advance(client) }
            assertEquals(before, flow.toJson(), "$what: the stored state did not change")
            val step = flow.status().single { it.step == "sbc_gateways" }
            assertEquals(StepState.FAILED, step.state, "$what: status shows the failure")
            assertEquals("decode", step.errorCode)
        }
        // The caller's mistake: a client without a callback key. Nothing is sent, nothing changes.
        val sent = sim.requests().size
        val keyless = Fixtures.client(sim)
        assertFailsWith<CttException.InvalidInput>("no callback key") { flow.advance(keyless) }
        keyless.close()
        assertEquals(before, flow.toJson())
        assertEquals(sent, sim.requests().size, "nothing was sent without a callback key")
        sim.clearCanned()
        assertIs<Progress.AwaitingAdmin>(flow.advance(client), "it recovers")
    }

    @Test
    fun `malformed flow JSON is refused as InvalidInput`() {
        val genuine = Onboarding(OnboardingPlan(Fixtures.smsEnterprise(), Fixtures.REDIRECT)).toJson()
        val cases = listOf(
            "empty" to "",
            "array" to "[]",
            "schema only" to """{"schema":1}""",
            "schema as a string" to """{"schema":"1"}""",
            "newer schema" to genuine.replaceFirst(Regex("\"schema\":\\s*\\d+"), "\"schema\":999"),
            "deeply nested" to "[".repeat(50_000),
            "truncated" to genuine.substring(0, genuine.length / 2),
            "not JSON" to "<flow/>",
            "blank id" to genuine.replaceFirst(Regex("\"id\":\\s*\"[^\"]*\""), "\"id\":\" \""),
            "huge" to "{\"schema\":1,\"x\":\"" + "x".repeat(2 shl 20) + "\"}",
        )
        for ((what, json) in cases) {
            val e = assertFailsWith<CttException.InvalidInput>(what) { Onboarding.fromJson(json) }
            assertTrue(e.detail.contains("flow JSON") || e.detail.contains("schema"), "$what: ${e.detail}")
            assertTrue(e.detail.length < 2048, "$what: ${e.detail.length} characters")
        }
        assertEquals(genuine, Onboarding.fromJson(genuine).toJson(), "the genuine one round-trips")
    }
}
