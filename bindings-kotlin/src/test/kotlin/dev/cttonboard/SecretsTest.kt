package dev.cttonboard

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue
import java.util.concurrent.ConcurrentLinkedQueue

/** Canaries: secrets never appear in toString() or an exception's message. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecretsTest {
    private lateinit var sim: Simulator

    @BeforeAll
    fun start() {
        sim = Simulator.start()
    }

    @AfterAll
    fun stop() = sim.close()

    private fun assertClean(text: String?, vararg canaries: String) {
        for (c in canaries) assertFalse(text.orEmpty().contains(c), "secret $c leaked into: $text")
    }

    private fun assertCleanException(e: Throwable, vararg canaries: String) {
        var t: Throwable? = e
        while (t != null) {
            assertClean(t.message, *canaries)
            assertClean(t.toString(), *canaries)
            t = t.cause
        }
    }

    @Test
    fun `client credentials never leak`(): Unit = runBlocking {
        val secret = "CANARY-client-secret-1"
        val password = "CANARY-password-2"
        val key = "CANARY-callback-key-3456"
        val client = Client.builder().baseUrl(sim.baseUrl()).reseller("ctt-sim-client", secret, "api-admin@reseller.example", password)
            .enterprise("ctt-sim-client", secret, "enterprise", password).callbackKey(key).build()
        assertClean(client.toString(), secret, password, key)
        val e = assertFailsWith<CttException> { client.resellerId() }
        assertCleanException(e, secret, password, key)
        client.close()

        val tokenClient = Client.builder().baseUrl(sim.baseUrl()).resellerToken("CANARY-token-4").build()
        val t = assertFailsWith<CttException.Authentication> { tokenClient.resellerId() }
        assertCleanException(t, "CANARY-token-4")
        tokenClient.close()
    }

    @Test
    fun `msal tokens are masked in every object that holds them`(): Unit = runBlocking {
        val body = """{"msalAuthenticationResult":{"authenticationResult":{"accessToken":"CANARY-AT","accessTokenType":"login.microsoftonline.com","expiresOn":1742985175242681,"idToken":"CANARY-ID","refreshToken":"CANARY-RT","userInfo":{"displayableId":"ga@example.com","tenantId":"t-1"}},"resellerId":null,"tenantId":null},"organization":"MSFT","officeUserType":"GLOBAL_ADMIN","companyAdmin":true,"containsTeamsTenantAdminAPI":true}"""
        val payload = CallbackPayload.parse(body)
        assertClean(payload.toString(), "CANARY")
        val auth = payload.authenticationResult()
        assertClean(auth.toString(), "CANARY")
        assertEquals("t-1", auth.tenantId())
        assertTrue(auth.toJson().contains("CANARY-AT"), "toJson is the one explicit way to the tokens")
        val reread = AuthenticationResult.fromJson(auth.toJson())
        assertClean(reread.toString(), "CANARY")
        val bad = assertFailsWith<CttException.Decode> { CallbackPayload.parse(body.replace("\"organization\":\"MSFT\"", "\"organization\":[\"CANARY-X\"")) }
        assertCleanException(bad, "CANARY-AT", "CANARY-ID", "CANARY-RT")
    }

    @Test
    fun `simulator handles and callbacks print no secret`(): Unit = runBlocking {
        val c = sim.credentials()
        assertClean(c.toString(), c.clientSecret, c.password, c.enterprisePassword)
        val client = Fixtures.client(sim)
        val name = Fixtures.uniqueName()
        client.createEnterprise(Fixtures.smsEnterprise(name))
        val cb = sim.approve(client.actionItemUrl(ActionType.Registration, name, Fixtures.REDIRECT), "contoso")
        val token = CallbackPayload.parse(cb.body).authenticationResult().toJson()
            .substringAfter("\"accessToken\":\"").substringBefore('"')
        assertTrue(token.length > 10)
        assertClean(cb.toString(), token)
        assertClean(CallbackPayload.parse(cb.body).toString(), token)
        client.close()
    }

    @Test
    fun `a flow holding the admin's tokens prints none of them`(): Unit = runBlocking {
        val key = "flow-callback-key-0123456789"
        val client = Fixtures.client(sim) { callbackKey(key) }
        val flow = Onboarding(OnboardingPlan(Fixtures.smsEnterprise(), Fixtures.REDIRECT))
        val awaiting = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        val cb = sim.approve(awaiting.url, "contoso")
        val token = CallbackPayload.parse(cb.body).authenticationResult().toJson()
            .substringAfter("\"accessToken\":\"").substringBefore('"')
        flow.handleCallback(client, cb.url, cb.body)
        val verified = verifyCallback(client, cb.url, cb.body)
        assertClean(verified.toString(), token, key)
        assertClean(flow.toString(), token, key)
        assertClean(flow.status().toString(), token, key)
        assertClean(flow.progress().toString(), token, key)
        assertClean(flow.advance(client).toString(), token, key)
        val e = assertFailsWith<CttException.CallbackInvalid> { flow.handleCallback(CallbackKeys("wrong-key-0123456789abc"), cb.url, cb.body) }
        assertCleanException(e, token, key)
        assertFalse(flow.toJson().contains(key), "the callback key is never stored in the flow")
        client.close()
    }

    /**
     * Canary credentials and callback key, and the MSAL tokens of every real callback, through a
     * full flow with a TRACE logger installed: none of them in a log event, a `toString()` of any
     * public object, an exception's message, or the flow's status.
     */
    @Test
    fun `canaries appear nowhere during a full flow at TRACE`(): Unit = runBlocking {
        val creds = SimCredentials(
            clientId = "ctt-sim-client",
            clientSecret = "CANARY-SECRET-5e1f",
            username = "api-admin@reseller.example",
            password = "CANARY-PASSWORD-77a0",
            enterpriseUsername = "enterprise-api@reseller.example",
            enterprisePassword = "CANARY-ENT-PASSWORD-c3d9",
        )
        val key = "CANARY-CALLBACK-KEY-0123456789"
        val canaries = mutableListOf(creds.clientSecret, creds.password, creds.enterprisePassword, key)
        val logs = ConcurrentLinkedQueue<String>()
        installLogger(LogLevel.TRACE) { level, target, message -> logs += "$level $target $message" }
        val shown = mutableListOf<String>()
        val canarySim = Simulator.startWithCredentials(creds)
        try {
            val builder = Client.builder().baseUrl(canarySim.baseUrl())
                .reseller(creds.clientId, creds.clientSecret, creds.username, creds.password)
                .enterprise(creds.clientId, creds.clientSecret, creds.enterpriseUsername, creds.enterprisePassword)
                .callbackKey(key)
            shown += builder.toString()
            val client = builder.build()
            shown += client.toString()
            shown += client.callbackKeys().toString()
            shown += CallbackKeys(key, "canary").verifyAlso(key + "-older").toString()
            shown += canarySim.toString()
            shown += canarySim.credentials().toString()
            val clock = ManualClock()
            shown += clock.toString()
            val plan = OnboardingPlan(
                enterprise = NewEnterprise(enterpriseName = Fixtures.uniqueName("Canary"), services = listOf(Service.Pbx, Service.CallApp, Service.Sms)),
                redirectUrl = Fixtures.REDIRECT,
                gatewayRegions = listOf("US-East"),
                optionalConsents = listOf(ActionType.GetContactsConsent),
            )
            shown += plan.toString()
            val flow = Onboarding(plan)
            val rid = client.resellerId()
            shown += client.authenticatedUser().toString()
            shown += client.sbcGateways(rid).toString()
            shown += client.pbxTypes(rid).toString()
            var done = false
            repeat(40) {
                if (done) return@repeat
                val progress = flow.advance(client)
                shown += progress.toString()
                shown += flow.toString()
                shown += flow.status().toString()
                shown += flow.status().joinToString { "${it.step} ${it.detail}" }
                shown += flow.progress().toString()
                shown += flow.plan().toString()
                when (progress) {
                    is Progress.AwaitingAdmin -> {
                        val cb = canarySim.approve(progress.url, "contoso")
                        val payload = CallbackPayload.parse(cb.body)
                        val json = payload.authenticationResult().toJson()
                        for (field in listOf("accessToken", "idToken")) {
                            val token = json.substringAfter("\"$field\":\"", "").substringBefore('"')
                            assertTrue(token.length > 10, "$field in the callback")
                            canaries += token
                        }
                        shown += cb.toString()
                        shown += payload.toString()
                        shown += payload.authenticationResult().toString()
                        val verified = verifyCallback(client, cb.url, cb.body)
                        shown += verified.toString()
                        shown += verified.payload.toString()
                        // A rejected one, with the tokens in its body: the exception stays clean.
                        val bad = assertFailsWith<CttException.CallbackInvalid> { flow.handleCallback(CallbackKeys("wrong-key-0123456789abc"), cb.url, cb.body) }
                        shown += bad.toString()
                        shown += bad.message.orEmpty()
                        shown += bad.detail
                        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, cb.url, cb.body))
                        shown += client.o365UserInfo(payload.authenticationResult()).toString()
                    }
                    is Progress.WaitingUntil -> error("contoso never waits")
                    is Progress.Complete -> done = true
                }
            }
            assertTrue(done, "the flow completed: ${flow.status()}")
            shown += canarySim.enterprises().toString()
            shown += canarySim.consents().toString()
            shown += canarySim.requests().toString()
            // Errors on every path that takes a secret: bad credentials, a bad token, a duplicate.
            val wrong = Client.builder().baseUrl(canarySim.baseUrl())
                .reseller(creds.clientId, creds.clientSecret, creds.username, "CANARY-PASSWORD-77a0-x").build()
            listOf(
                assertFailsWith<CttException> { wrong.resellerId() },
                assertFailsWith<CttException> { Client.builder().baseUrl(canarySim.baseUrl()).resellerToken("CANARY-TOKEN-beef").build().resellerId() },
                assertFailsWith<CttException.Conflict> { client.createEnterprise(plan.enterprise.copy(services = listOf(Service.Sms))) },
                assertFailsWith<CttException.InvalidInput> { Client.builder().callbackKey("CANARY-short").baseUrl("http://x.example").build() },
            ).forEach { e ->
                shown += e.toString()
                shown += e.message.orEmpty()
                shown += e.stackTraceToString()
            }
            canaries += listOf("CANARY-TOKEN-beef", "CANARY-short")
            wrong.close()
            client.close()
        } finally {
            uninstallLogger()
            canarySim.close()
        }
        assertTrue(logs.any { it.startsWith("TRACE") || it.startsWith("DEBUG") }, "the logger saw the flow: ${logs.size} events")
        for (c in canaries) {
            assertEquals(emptyList(), logs.filter { it.contains(c) }, "canary $c in a log event")
            assertEquals(emptyList(), shown.filter { it.contains(c) }, "canary $c in toString(), a message or the status")
        }
    }
}
