package dev.cttonboard

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import java.nio.ByteBuffer
import java.security.MessageDigest
import java.util.Base64
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertTrue

/**
 * Forged and wrong callbacks through the binding, as a table (core/tests/onboarding.rs
 * `forged_and_wrong_callbacks_leave_the_state_unchanged`): each is `CallbackInvalid` and leaves
 * `toJson()` byte-identical; the genuine one is accepted once, its replay is a duplicate.
 */
class CallbacksTest {
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
        sim.close()
    }

    private fun flow() = Onboarding(OnboardingPlan(Fixtures.smsEnterprise(Fixtures.uniqueName("Callbacks")), Fixtures.REDIRECT))

    /** The id a key ring derives for [key]: `k` and 8 hex digits of a SHA-256 (docs/flow-api.md). */
    private fun derivedId(key: String): String {
        val sha = MessageDigest.getInstance("SHA-256")
        sha.update("ctt-onboard/callback-key-id\n".toByteArray())
        return "k" + sha.digest(key.toByteArray()).take(4).joinToString("") { "%02x".format(it) }
    }

    /**
     * What a portal holding [key] would put in a redirect URL for one ask (tag version 2: an
     * HMAC-SHA256 over length-prefixed fields, docs/flow-api.md), written here from the spec.
     */
    private fun taggedUrl(key: String, flowId: String, action: ActionType, nonce: String, issuedAt: String): String {
        val kid = derivedId(key)
        val mac = Mac.getInstance("HmacSHA256")
        mac.init(SecretKeySpec(key.toByteArray(), "HmacSHA256"))
        for (field in listOf("ctt-onboard/callback", "2", kid, flowId, action.wireName, nonce, issuedAt, Fixtures.REDIRECT)) {
            val bytes = field.toByteArray()
            mac.update(ByteBuffer.allocate(8).putLong(bytes.size.toLong()).array())
            mac.update(bytes)
        }
        val tag = Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal())
        return "${Fixtures.REDIRECT}?ctt_flow=$flowId&ctt_action=${action.wireName}&ctt_nonce=$nonce" +
            "&ctt_iat=$issuedAt&ctt_kid=$kid&ctt_v=2&ctt_tag=$tag"
    }

    private fun param(url: String, name: String) = url.substringAfter("$name=").substringBefore('&')

    @Test
    fun `forged and wrong callbacks are CallbackInvalid and change nothing`(): Unit = runBlocking {
        val flow = flow()
        val other = flow()
        val url = assertIs<Progress.AwaitingAdmin>(flow.advance(client)).url
        val otherUrl = assertIs<Progress.AwaitingAdmin>(other.advance(client)).url
        val genuine = sim.approveWithoutPosting(url, "contoso")
        val otherCb = sim.approveWithoutPosting(otherUrl, "contoso")
        val tailspin = sim.approveWithoutPosting(url, "tailspin")
        // The control: our own tagging, from the spec, agrees with the library's for the ask the
        // flow waits for (the very URL), so the "another action" case below fails for its action.
        val nonce = param(genuine.url, "ctt_nonce")
        val issuedAt = param(genuine.url, "ctt_iat")
        assertEquals(genuine.url, taggedUrl(key, flow.id(), ActionType.Registration, nonce, issuedAt))
        assertEquals(flow.id(), verifyCallback(CallbackKeys(key), taggedUrl(key, flow.id(), ActionType.Registration, nonce, issuedAt), genuine.body).flowId)

        data class Case(val what: String, val url: String, val body: String, val key: String = this@CallbacksTest.key)
        val cases = listOf(
            Case("bad tag", genuine.url.replace("ctt_tag=", "ctt_tag=00"), genuine.body),
            Case("tag cut short", genuine.url.dropLast(2), genuine.body),
            Case("wrong key", genuine.url, genuine.body, "another-key-0123456789"),
            Case("no flow parameters", Fixtures.REDIRECT, genuine.body),
            Case("repeated parameter", genuine.url + "&ctt_flow=" + other.id(), genuine.body),
            Case("another flow's callback", otherCb.url, otherCb.body),
            Case("another flow's id with this flow's tag", genuine.url.replace(flow.id(), other.id()), genuine.body),
            Case("another action", taggedUrl(key, flow.id(), ActionType.GetAgentConsent, nonce, issuedAt), genuine.body),
            Case("another nonce", taggedUrl(key, flow.id(), ActionType.Registration, "0".repeat(32), issuedAt), genuine.body),
            Case("no version", genuine.url.replace("&ctt_v=2", ""), genuine.body),
            Case("not a Global Admin (tailspin)", tailspin.url, tailspin.body),
            Case("malformed JSON", genuine.url, "{\"msal"),
            Case("missing fields", genuine.url, """{"msalAuthenticationResult":{}}"""),
            Case("empty body", genuine.url, ""),
            Case("JSON array", genuine.url, "[]"),
            Case("deeply nested body", genuine.url, "[".repeat(50_000)),
        )
        for (c in cases) {
            val before = flow.toJson()
            val e = assertFailsWith<CttException.CallbackInvalid>(c.what) { flow.handleCallback(CallbackKeys(c.key), c.url, c.body) }
            assertEquals("callback_invalid", e.code, c.what)
            assertTrue(e.detail.length < 2048, "${c.what}: ${e.detail.length} characters")
            assertEquals(before, flow.toJson(), "${c.what}: state changed")
        }
        assertTrue(flow.tenantId() == null, "no tenant bound by a forged callback")

        // The genuine one is accepted once; a replay is a duplicate and changes nothing.
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, genuine.url, genuine.body))
        val accepted = flow.toJson()
        assertEquals(CallbackOutcome.DUPLICATE, flow.handleCallback(client, genuine.url, genuine.body))
        assertEquals(accepted, flow.toJson(), "a replay changes nothing")
        // The other flow's genuine callback still belongs to the other flow.
        assertEquals(CallbackOutcome.ACCEPTED, other.handleCallback(client, otherCb.url, otherCb.body))

        // The tenant is bound at registration: a consent approved by fabrikam's admin is refused.
        val next = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        val before = flow.toJson()
        val switched = sim.approveWithoutPosting(next.url, "fabrikam")
        val e = assertFailsWith<CttException.CallbackInvalid> { flow.handleCallback(client, switched.url, switched.body) }
        assertTrue(e.detail.contains("registered to tenant"), e.detail)
        assertEquals(before, flow.toJson(), "tenant switched: state changed")
        // contoso's own approval of the same URL goes through.
        val own = sim.approveWithoutPosting(next.url, "contoso")
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, own.url, own.body))
    }
}
