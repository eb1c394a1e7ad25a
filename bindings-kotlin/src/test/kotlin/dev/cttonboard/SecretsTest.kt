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
        flow.handleCallback(key, cb.url, cb.body)
        val verified = verifyCallback(key, cb.url, cb.body)
        assertClean(verified.toString(), token, key)
        assertClean(flow.toString(), token, key)
        assertClean(flow.status().toString(), token, key)
        assertClean(flow.progress().toString(), token, key)
        assertClean(flow.advance(client).toString(), token, key)
        val e = assertFailsWith<CttException.CallbackInvalid> { flow.handleCallback("wrong-key-0123456789abc", cb.url, cb.body) }
        assertCleanException(e, token, key)
        assertFalse(flow.toJson().contains(key), "the callback key is never stored in the flow")
        client.close()
    }
}
